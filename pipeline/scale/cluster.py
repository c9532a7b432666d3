"""Where the workers come from: a registry of Dask schedulers by name, or any scheduler's address.

- ``local``: a ``distributed.LocalCluster`` of N single-threaded worker processes on this machine;
- ``slurm``: ``dask_jobqueue.SLURMCluster``, N batch jobs of one worker each (``--queue``, ``--memory``,
  ``--walltime``, ``--lifetime`` so a worker leaves before the wall-time limit kills it mid-stage);
- anything with ``://`` or ``host:port``: an existing scheduler (Kubernetes through the Dask operator,
  ``dask scheduler`` by hand); its workers are what they are.

Each worker runs one task at a time (a stage's own command uses the machine's threads). When the study's
``runtime.device`` is ``cuda``, every worker declares one ``GPU`` resource and device stages ask for it.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pipeline.errors import ConfigError


@dataclass(frozen=True)
class ClusterOptions:
    """The fan-out's cluster: ``workers`` (-j), whether workers hold a GPU, and the batch-system options."""

    workers: int
    gpu: bool = False
    queue: str | None = None
    memory: str = "8GB"
    walltime: str = "04:00:00"
    lifetime: str | None = None
    local_directory: str | None = None
    host: str | None = None  # the address the scheduler listens on and workers announce (None: Dask's choice)


def _local(opts: ClusterOptions) -> Any:
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=opts.workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        resources={"GPU": 1} if opts.gpu else None,
        local_directory=opts.local_directory,
    )


def _slurm(opts: ClusterOptions) -> Any:
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as e:  # pinned in pyproject.toml; a broken environment
        raise ConfigError(f"scheduler: slurm needs dask-jobqueue ({e})") from None
    extra = ["--resources", "GPU=1"] if opts.gpu else []
    extra += ["--host", opts.host] if opts.host else []
    if opts.lifetime:
        extra += ["--lifetime", opts.lifetime, "--lifetime-stagger", "1m"]
    cluster = SLURMCluster(
        cores=1,
        processes=1,
        memory=opts.memory,
        walltime=opts.walltime,
        queue=opts.queue,
        python=sys.executable,
        job_extra_directives=["--gres=gpu:1"] if opts.gpu else [],
        worker_extra_args=extra,
        local_directory=opts.local_directory or tempfile.gettempdir(),
        log_directory=opts.local_directory or tempfile.gettempdir(),
        scheduler_options={"dashboard_address": ":0"} | ({"host": opts.host} if opts.host else {}),
    )
    # adapt, not scale: a worker that leaves at --lifetime (or dies with its job) is replaced by a new job
    # while tasks remain, as dask-jobqueue advises for wall-time limits.
    cluster.adapt(minimum_jobs=opts.workers, maximum_jobs=opts.workers)
    return cluster


CLUSTERS: dict[str, Callable[[ClusterOptions], Any]] = {"local": _local, "slurm": _slurm}


def is_address(scheduler: str) -> bool:
    return "://" in scheduler or (":" in scheduler and scheduler.rpartition(":")[2].isdigit())


@contextmanager
def client(scheduler: str, opts: ClusterOptions) -> Iterator[Any]:
    """A connected ``distributed.Client``; the cluster it started (if any) is closed on exit."""
    from distributed import Client

    if is_address(scheduler):
        with Client(scheduler) as c:
            yield c
        return
    if scheduler not in CLUSTERS:
        raise ConfigError(
            f"scheduler: {scheduler!r} is neither {' nor '.join(sorted(CLUSTERS))} nor an address "
            "(tcp://host:port)"
        )
    cluster = CLUSTERS[scheduler](opts)
    try:
        with Client(cluster) as c:
            yield c
    finally:
        cluster.close()
