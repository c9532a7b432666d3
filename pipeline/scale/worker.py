"""One fanned-out stage on a worker: an isolated clone at the commit, the remote and cache configured for it,
``dvc repro --pull`` of the stage with a guard that no other stage ran, the push of its run-cache entry
and outputs, cleanup. Runs inside a Dask worker process; every DVC call is its own subprocess.

A stage that fails with exit status 2 (a user error: a bad params value, a missing input) returns a
``config-error`` result and is not retried; any other failure raises :class:`StageFailed`, which Dask
retries. The stage's command is timed by a shell wrapper DVC runs it through (``SHELL``), so a result
splits the task's wall time into the command and the fixed cost around it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from pipeline.scale.graph import Remote

EVENT_TOPIC = "pipeline-scale"
# What a Dask nanny sets in its worker's environment (distributed.nanny.pre-spawn-environ), which the stage
# commands must not inherit: OMP_NUM_THREADS=1 would change torch's default thread count (and with it the
# checkpoints' bytes), and MALLOC_TRIM_THRESHOLD_=65536 makes a training step 40% slower (measured).
# A task restores the integrating process's own values.
NANNY_ENVIRON = ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
TIMED_SHELL = """#!/bin/sh
# DVC runs each stage command as "$SHELL -c CMD" (dvc/stage/run.py); this records the command's wall time.
start=$(date +%s%N)
/bin/sh "$@"
rc=$?
echo $(( $(date +%s%N) - start )) >> "$PIPELINE_SCALE_TIMES"
exit $rc
"""


class StageFailed(RuntimeError):
    """A failure worth retrying (anything but a user error): the message ends with DVC's last lines."""


@dataclass(frozen=True)
class TaskSpec:
    """Everything a worker needs, picklable: the stage, where the repository is and at which commit, the
    remote, and the cache (None: a cache private to the task)."""

    name: str
    address: str
    repo_url: str
    commit: str
    remote: Remote
    cache: str | None
    workdir: str | None = None
    keep: bool = False
    force: bool = False  # run the command even if the run-cache has it (the spot check)
    push: bool = True
    environ: tuple[tuple[str, str | None], ...] = ()  # NANNY_ENVIRON as the integrating process has them


@dataclass(frozen=True)
class TaskResult:
    """What a task did: ``ran`` (the command ran), ``restored`` (the run-cache had it), ``up-to-date``,
    ``config-error`` (exit status 2, with the message), ``guard`` (``dvc repro --pull`` ran another stage
    too: an upstream result was not restorable; not retried, since it would do the same again),
    ``skipped`` (an upstream task failed)."""

    name: str
    status: str
    worker: str = ""
    wall: float = 0.0
    command: float = 0.0
    outs: tuple[tuple[str, str], ...] = ()
    message: str = ""
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in {"ran", "restored", "up-to-date"}


def stage_lines(pattern: str, out: str) -> set[str]:
    return {name.rpartition(":")[2] for name in re.findall(pattern, out)}


def ran_stages(out: str) -> set[str]:
    """The stages a dvc command ran ("Running stage '[file:]name':")."""
    return stage_lines(r"Running stage '([^']+)'", out)


def restored_stages(out: str) -> set[str]:
    """The stages a dvc command restored from the run-cache."""
    return stage_lines(r"Stage '([^']+)' is cached - skipping run", out)


def exit_status(out: str) -> int | None:
    """The stage command's exit status in DVC's "failed to run: CMD, exited with N", if any."""
    found = re.findall(r"exited with (-?\d+)", out)
    return int(found[-1]) if found else None


def tail(out: str, lines: int = 6) -> str:
    return " | ".join(line.strip() for line in out.strip().splitlines()[-lines:])


def config_local(remote: Remote, cache: str) -> str:
    """The workspace's ``.dvc/config.local``: the integrating checkout's remote as the default, the cache."""
    lines = ["[core]", f"    remote = {remote.name}", f"['remote \"{remote.name}\"']"]
    lines += [f"    {key} = {value}" for key, value in remote.options]
    lines += ["[cache]", f"    dir = {cache}"]
    return "\n".join(lines) + "\n"


def own_environ() -> tuple[tuple[str, str | None], ...]:
    """This process's values of what a Dask nanny overrides (None: unset), for :class:`TaskSpec`."""
    return tuple((key, os.environ.get(key)) for key in NANNY_ENVIRON)


def environment(times: Path, shell: Path, environ: tuple[tuple[str, str | None], ...] = ()) -> dict[str, str]:
    """The stage commands' environment: this process's, with ``environ`` restored (None: removed), the
    interpreter's folder first on PATH, the timing wrapper as DVC's shell."""
    env = dict(os.environ)
    for key, value in environ:
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env |= {
        "DVC_NO_ANALYTICS": "1",
        "SHELL": str(shell),
        "PIPELINE_SCALE_TIMES": str(times),
        "GIT_TERMINAL_PROMPT": "0",
    }
    return env


def call(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def lock_outs(workspace: Path, address: str, name: str) -> tuple[tuple[str, str], ...]:
    """(path, md5) of the stage's outputs in the workspace's ``dvc.lock`` beside its ``dvc.yaml``."""
    dvcfile = address.rpartition(":")[0] if ":" in address else "dvc.yaml"
    lock_path = workspace / Path(dvcfile).parent / "dvc.lock"
    if not lock_path.is_file():
        return ()
    entry = (yaml.safe_load(lock_path.read_text()) or {}).get("stages", {}).get(name, {})
    return tuple((o["path"], o.get("md5", "")) for o in entry.get("outs", []))


def worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def report(kind: str, spec: TaskSpec, message: str) -> None:
    """An event the fan-out's client prints (a failure about to be retried)."""
    try:
        from distributed import get_worker

        get_worker().log_event(EVENT_TOPIC, {"kind": kind, "stage": spec.name, "message": message})
    except (ImportError, ValueError):
        pass


class Workspace:
    """A task's folder: a clone at the commit, its DVC config, the timing wrapper; removed on exit."""

    def __init__(self, spec: TaskSpec) -> None:
        self.spec = spec
        base = Path(spec.workdir) if spec.workdir else None
        if base is not None:
            base.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=f"scale-{spec.name.replace('@', '-')}-", dir=base))
        self.repo = self.root / "repo"
        self.times = self.root / "times"
        self.shell = self.root / "timed-sh"
        self.env = environment(self.times, self.shell, spec.environ)

    def __enter__(self) -> Workspace:
        try:
            self.shell.write_text(TIMED_SHELL)
            self.shell.chmod(0o755)
            spec = self.spec
            for argv in (
                ["git", "clone", "-q", "--no-checkout", spec.repo_url, str(self.repo)],
                ["git", "-C", str(self.repo), "checkout", "-q", "--detach", spec.commit],
            ):
                rc, out = call(argv, self.root, self.env)
                if rc:
                    raise StageFailed(f"{' '.join(argv[:3])}: {tail(out)}")
            cache = spec.cache or str(self.root / "cache")
            (self.repo / ".dvc/config.local").write_text(config_local(spec.remote, cache))
        except BaseException:
            self.__exit__()  # with does not call __exit__ when __enter__ raises: the folder must go too
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.spec.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def dvc(self, *args: str) -> tuple[int, str]:
        return call([sys.executable, "-m", "dvc", *args], self.repo, self.env)

    def command_seconds(self) -> float:
        if not self.times.is_file():
            return 0.0
        return sum(int(x) for x in self.times.read_text().split()) / 1e9


def _reproduce(ws: Workspace, spec: TaskSpec) -> tuple[str, str]:
    """``dvc repro --pull`` of the stage (forced: its command runs again, upstream restored first);
    (status, message) with the guard applied."""
    if spec.force:
        rc, out = ws.dvc("repro", "--pull", spec.address)  # upstream and the stage, from the run-cache
        if rc == 0:
            rc, more = ws.dvc("repro", "--force", "--single-item", spec.address)
            out += more
    else:
        rc, out = ws.dvc("repro", "--pull", spec.address)
    others = ran_stages(out) - {spec.name}
    if others:
        return "guard", (
            f"{spec.name}: dvc repro --pull ran {sorted(others)} too: their results were not restorable "
            "from the run-cache (were they pushed?)"
        )
    if rc:
        message = f"{spec.name}: dvc repro failed: {tail(out)}"
        if exit_status(out) == 2:
            return "config-error", message
        raise StageFailed(message)
    if spec.name in ran_stages(out):
        return "ran", ""
    return ("restored" if spec.name in restored_stages(out) else "up-to-date"), ""


def _push(ws: Workspace, spec: TaskSpec) -> None:
    rc, out = call([sys.executable, "-m", "pipeline.tools.push", "--stage", spec.address], ws.repo, ws.env)
    if rc:
        raise StageFailed(f"{spec.name}: push failed: {tail(out)}")


def run_task(spec: TaskSpec, *upstream: TaskResult) -> TaskResult:
    """The Dask task of one stage; ``upstream``: the results of the tasks it waits for."""
    failed = [u.name for u in upstream if not u.ok]
    if failed:
        return TaskResult(spec.name, "skipped", worker_name(), message=f"upstream failed: {failed}")
    start = time.perf_counter()
    phases: dict[str, float] = {}
    try:
        with Workspace(spec) as ws:
            phases["clone"] = time.perf_counter() - start
            status, message = _reproduce(ws, spec)
            phases["repro"] = time.perf_counter() - start - phases["clone"]
            outs = lock_outs(ws.repo, spec.address, spec.name)
            if status in {"ran", "restored", "up-to-date"} and spec.push:
                _push(ws, spec)
            phases["push"] = time.perf_counter() - start - phases["clone"] - phases["repro"]
            command = ws.command_seconds()
    except StageFailed as e:
        report("failed", spec, str(e))
        raise
    wall = time.perf_counter() - start
    return replace(TaskResult(spec.name, status, worker_name(), wall, command, outs, message), phases=phases)
