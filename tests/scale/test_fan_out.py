"""``python -m pipeline.scale`` on the tiny study with a real ``LocalCluster`` of 2 workers, against the
S3-compatible server of the team tests: the lock files and every output equal those of the serial
``dvc repro`` byte for byte, integration executes no fanned-out stage, a one-time failure is retried,
a user error (exit status 2) is not, and a worker killed mid-stage loses nothing."""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from ..e2e_study import BIN, env, lock_hashes, ran, sh
from ..s3_server import S3, use_remote
from ..test_team import assert_same_outputs

pytestmark = pytest.mark.e2e

LOCKS = [
    "dvc.lock",
    *(f"families/{f}/dvc.lock" for f in ("compress", "predict", "saliency", "representations")),
]

# Makes the stage named in FAULT_STAGE fail FAULT_TIMES times with exit status FAULT_CODE (or kill its Dask
# worker, FAULT_CODE=kill), counting attempts in FAULT_LOG; on PYTHONPATH, Python runs it at start-up.
FAULT = textwrap.dedent(
    """
    import os, signal, sys
    stage = os.environ.get("FAULT_STAGE")
    if stage and sys.orig_argv[1:3] == ["-m", "pipeline.stages." + stage]:
        log = os.environ["FAULT_LOG"]
        attempts = len(open(log).read().splitlines()) if os.path.exists(log) else 0
        with open(log, "a") as f:
            f.write("attempt\\n")
        if attempts < int(os.environ["FAULT_TIMES"]):
            if os.environ["FAULT_CODE"] == "kill":
                import psutil
                for p in psutil.Process().parents():
                    if "multiprocessing" in " ".join(p.cmdline()):
                        os.kill(p.pid, signal.SIGKILL)  # the Dask worker running this task
                        break
                os._exit(1)
            print("injected failure", file=sys.stderr, flush=True)
            os._exit(int(os.environ["FAULT_CODE"]))
    """
)


def scale(
    repo: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "python"), "-m", "pipeline.scale", *args],
        cwd=repo,
        env=env() | (extra_env or {}),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def clone_before_run(study: Path, dest: Path, s3: S3) -> Path:
    """A clone of the tiny study at the commit before its serial run (no dvc.lock), its remote the S3
    server, its cache empty: what a fan-out starts from."""
    sh(dest.parent, "git", "clone", "-q", str(study), str(dest))
    sh(dest, "git", "checkout", "-q", "--detach", "HEAD~1")
    assert not (dest / "dvc.lock").exists()
    use_remote(dest, s3)
    return dest


def test_two_workers_make_what_the_serial_run_made(study: Path, s3: S3, tmp_path: Path) -> None:
    fan = clone_before_run(study, tmp_path / "fan", s3)
    done = scale(fan, "--scheduler", "local", "-j", "2", "--spot-check", "1")
    out = done.stdout + done.stderr
    print("\n".join(line for line in out.splitlines() if line.startswith("[scale]")))  # pytest -rP shows it
    assert done.returncode == 0, out
    assert "[scale] 25 tasks: 25 ran" in out
    assert not ran(out) - {"robustness", "stats", "pie", "report"}, out  # integration ran fan-ins only
    assert re.search(r"spot check \S+ on another worker, tcp://\S+: identical outputs", out), out
    for lock in LOCKS:  # byte for byte, as the serial run wrote them
        assert (fan / lock).read_bytes() == sh(study, "git", "show", f"HEAD:{lock}").encode(), lock
    assert lock_hashes(fan) == lock_hashes(study)
    assert_same_outputs(study, fan)
    assert "up to date" in sh(fan, "dvc", "status")

    # Everything reached the remote: a teammate's empty clone restores the whole study and runs nothing.
    sh(fan, "git", "add", "-A")
    sh(fan, "git", "commit", "-qm", "fanned out")
    teammate = tmp_path / "teammate"
    sh(tmp_path, "git", "clone", "-q", str(fan), str(teammate))
    use_remote(teammate, s3)
    assert not ran(sh(teammate, "dvc", "repro", "--pull"))
    assert_same_outputs(study, teammate)

    # The same command again: nothing is stale, nothing runs.
    again = scale(fan, "-j", "2")
    assert again.returncode == 0 and "0 tasks" in again.stdout, again.stdout + again.stderr


def faulty(tmp_path: Path, stage: str, code: str, times: int) -> dict[str, str]:
    site = tmp_path / "fault"
    site.mkdir()
    (site / "sitecustomize.py").write_text(FAULT)
    log = tmp_path / "attempts.log"
    return {
        "PYTHONPATH": str(site),
        "FAULT_STAGE": stage,
        "FAULT_CODE": code,
        "FAULT_TIMES": str(times),
        "FAULT_LOG": str(log),
    }


def attempts(fault: dict[str, str]) -> int:
    return len(Path(fault["FAULT_LOG"]).read_text().splitlines())


def test_a_one_time_failure_is_retried(study: Path, s3: S3, tmp_path: Path) -> None:
    fan = clone_before_run(study, tmp_path / "fan", s3)
    fault = faulty(tmp_path, "prepare", "1", 1)
    done = scale(fan, "prepare", "-j", "2", "--retries", "2", "--spot-check", "0", extra_env=fault)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert attempts(fault) == 2  # failed once, then ran
    assert "prepare: dvc repro failed" in out and "Dask retries it" in out
    assert "[scale] 3 tasks: 3 ran" in out  # code, validate, prepare


def test_a_user_error_is_not_retried_and_a_rerun_restores_what_finished(
    study: Path, s3: S3, tmp_path: Path
) -> None:
    fan = clone_before_run(study, tmp_path / "fan", s3)
    fault = faulty(tmp_path, "prepare", "2", 99)
    done = scale(fan, "corrupt", "-j", "2", "--retries", "3", "--spot-check", "0", extra_env=fault)
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert attempts(fault) == 1
    assert "error: prepare: config-error" in out and "error: corrupt: skipped" in out
    assert "[scale] 4 tasks: 1 config-error, 2 ran, 1 skipped" in out

    again = scale(fan, "corrupt", "-j", "2", "--spot-check", "0")  # the params fixed: no fault this time
    out = again.stdout + again.stderr
    assert again.returncode == 0, out
    assert "[scale] 4 tasks: 2 ran, 2 restored" in out  # code and validate came back from the run-cache


def test_a_killed_worker_loses_its_task_to_another(study: Path, s3: S3, tmp_path: Path) -> None:
    fan = clone_before_run(study, tmp_path / "fan", s3)
    fault = faulty(tmp_path, "prepare", "kill", 1)
    done = scale(fan, "prepare", "-j", "2", "--spot-check", "0", extra_env=fault)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert attempts(fault) == 2
    assert "[scale] 3 tasks: 3 ran" in out


def test_a_dirty_tree_is_refused(study: Path, s3: S3, tmp_path: Path) -> None:
    fan = clone_before_run(study, tmp_path / "fan", s3)
    (fan / "params.yaml").write_text((fan / "params.yaml").read_text() + "\n")
    done = scale(fan, "-j", "2")
    assert done.returncode == 2
    assert "error: the work tree is not clean (params.yaml)" in done.stderr
