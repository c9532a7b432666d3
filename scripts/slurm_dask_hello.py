"""Smoke test of dask-jobqueue on SLURM: two one-core worker jobs each report their PID and host name.

    bash scripts/slurm_local.sh .venv/bin/python scripts/slurm_dask_hello.py

Needs a SLURM cluster in reach (``sbatch``/``squeue``/``scancel`` on PATH, e.g. the throw-away one that
scripts/slurm_local.sh starts and exports through SLURM_CONF). Starts a ``SLURMCluster`` whose scheduler
listens on 127.0.0.1 (the workers run on this machine), prints the job script it submits, scales to
two jobs, submits one task to each worker, prints what each returned, then closes client and cluster
(which cancels the jobs). Worker logs and scratch space go to a temporary directory that is deleted at
the end. Exits 1 when fewer than two distinct workers answered.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile

from dask.distributed import Client
from dask_jobqueue import SLURMCluster

N_JOBS = 2
START_TIMEOUT_S = 120


def whoami() -> tuple[int, str]:
    """Runs on a worker: the worker process's PID and host name."""
    return os.getpid(), socket.gethostname()


def make_cluster(tmp: str) -> SLURMCluster:
    """A cluster of one-core, one-process, 2 GB workers in the `debug` partition, scheduler on loopback."""
    return SLURMCluster(
        cores=1,
        processes=1,
        memory="2GB",
        walltime="00:10:00",
        queue="debug",
        python=sys.executable,
        local_directory=tmp,
        log_directory=tmp,
        # One machine: scheduler and workers meet on loopback; dashboard on any free port.
        scheduler_options={"host": "127.0.0.1", "dashboard_address": ":0"},
        worker_extra_args=["--host", "127.0.0.1"],
        job_script_prologue=[f"cd {tmp}"],
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="slurm-dask-") as tmp:
        cluster = make_cluster(tmp)
        client = Client(cluster)
        try:
            print("---- job script")
            print(cluster.job_script())
            cluster.scale(jobs=N_JOBS)
            client.wait_for_workers(N_JOBS, timeout=START_TIMEOUT_S)
            workers = sorted(client.scheduler_info()["workers"])
            # One task pinned to each worker (pure=False: no result sharing between the identical calls).
            futures = [client.submit(whoami, workers=[w], pure=False) for w in workers]
            results: list[tuple[int, str]] = client.gather(futures)
            print("---- results")
            for address, (pid, host) in zip(workers, results, strict=True):
                print(f"{address}: pid={pid} host={host}")
        finally:
            client.close()
            cluster.close()
    return 0 if len({pid for pid, _ in results}) == N_JOBS else 1


if __name__ == "__main__":
    sys.exit(main())
