"""The fan-out itself: plan, submit one Dask task per stage, integrate with ``dvc repro --pull``, check.

Integration runs in the user's checkout and restores every fanned-out stage from the run-cache; a
fanned-out stage it had to execute is an error (its result did not come back). A spot check then runs
k of the stages this fan-out computed again, on another worker than the one that made each, and compares
the outputs' hashes, so a mixed fleet cannot silently mix results.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from pipeline.scale.cluster import ClusterOptions, client
from pipeline.scale.graph import Remote, cache_dir, changed_stages, clean_commit, default_remote, read_nodes
from pipeline.scale.plan import INTEGRATE, Plan, describe, make_plan, selected
from pipeline.scale.worker import (
    EVENT_TOPIC,
    TaskResult,
    TaskSpec,
    environment,
    own_environ,
    ran_stages,
    run_task,
)

HISTORY = Path(".dvc/tmp/scale/last.json")  # per-task timings of the last fan-out, for the next plan
PAYS = 2.0  # fan-out pays when a stage's command takes at least this many times a task's fixed cost


@dataclass(frozen=True)
class Outcome:
    """What a fan-out did: each task's result, the tasks that failed (name -> message), what integration
    ran, the spot check's stages and mismatches, and the total wall time."""

    results: dict[str, TaskResult]
    failed: dict[str, str]
    integrated: tuple[str, ...] = ()
    integration_error: str = ""
    spot_checked: tuple[str, ...] = ()
    mismatches: tuple[str, ...] = ()
    wall: float = 0.0

    @property
    def exit_code(self) -> int:
        if any(r.status == "config-error" for r in self.results.values()):
            return 2
        bad = self.failed or self.integration_error or self.mismatches
        return 1 if bad or any(not r.ok for r in self.results.values()) else 0


def say(line: str) -> None:
    print(f"[scale] {line}", flush=True)


def fixed_cost(result: TaskResult) -> float:
    return max(result.wall - result.command, 0.0)


def too_short(results: Iterable[TaskResult]) -> str:
    """A warning when the stages that ran took less than ``PAYS`` times a task's fixed cost, else ''."""
    ran = [r for r in results if r.status == "ran"]
    if not ran:
        return ""
    command = statistics.median(r.command for r in ran)
    fixed = statistics.median(fixed_cost(r) for r in ran)
    if command >= PAYS * fixed:
        return ""
    return (
        f"the stages' commands took {command:.1f} s (median) against {fixed:.1f} s of fixed cost per task "
        "(clone, DVC, pull, push): fan-out does not pay for stages this short; plain `dvc repro` is faster"
    )


def save_history(root: Path, results: dict[str, TaskResult]) -> None:
    path = root / HISTORY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({n: asdict(r) for n, r in results.items()}, indent=1))


def load_history(root: Path) -> list[TaskResult]:
    path = root / HISTORY
    if not path.is_file():
        return []
    try:
        return [
            TaskResult(**{**row, "outs": tuple(map(tuple, row["outs"]))})
            for row in json.loads(path.read_text()).values()
        ]
    except (ValueError, TypeError, KeyError):
        return []


def submit(
    client: Any, plan: Plan, spec: Callable[[str], TaskSpec], retries: int, gpu: bool
) -> dict[str, Any]:
    """One future per task, in plan order, each given its upstream tasks' futures as arguments; device
    stages ask for a ``GPU`` resource when ``gpu``."""
    futures: dict[str, Any] = {}
    for task in plan.tasks:
        futures[task.node.name] = client.submit(
            run_task,
            spec(task.node.name),
            *[futures[u] for u in task.after],
            key=f"stage-{task.node.name}",
            retries=retries,
            resources={"GPU": 1} if gpu and task.node.device else None,
            pure=False,
        )
    return futures


def collect(futures: dict[str, Any]) -> tuple[dict[str, TaskResult], dict[str, str]]:
    """Wait for every task, printing each as it ends; (results, failures)."""
    from distributed import as_completed

    results: dict[str, TaskResult] = {}
    failed: dict[str, str] = {}
    names = {f.key: n for n, f in futures.items()}
    for i, future in enumerate(as_completed(list(futures.values())), 1):
        name = names[future.key]
        if future.status == "error":
            failed[name] = f"{type(future.exception()).__name__}: {future.exception()}"
            say(f"[{i}/{len(futures)}] {name}: failed after retries: {failed[name]}")
            continue
        r = future.result()
        results[name] = r
        timing = f"{r.wall:.1f} s ({r.command:.1f} s command)" if r.ok else r.message
        say(f"[{i}/{len(futures)}] {name}: {r.status} on {r.worker}, {timing}")
    return results, failed


def integrate(
    root: Path, addresses: list[str], environ: tuple[tuple[str, str | None], ...]
) -> tuple[set[str], int, str]:
    """``dvc repro --pull`` in the user's checkout, its output passed through; (stages it ran, exit
    status, output)."""
    argv = [sys.executable, "-m", "dvc", "repro", "--pull", *addresses]
    say(f"integration: {' '.join(argv[2:])}")
    env = environment(root / HISTORY.parent / "times", Path("/bin/sh"), environ)
    proc = subprocess.Popen(
        argv, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        sys.stdout.write(line)
    rc = proc.wait()
    out = "".join(lines)
    return ran_stages(out), rc, out


def lock_mismatches(root: Path, results: dict[str, TaskResult], addresses: dict[str, str]) -> list[str]:
    """Fanned-out stages whose outputs in the checkout's dvc.lock differ from what their task reported."""
    from pipeline.scale.worker import lock_outs

    bad = []
    for name, r in results.items():
        if r.outs and lock_outs(root, addresses[name], name) != r.outs:
            bad.append(name)
    return bad


def spot_check(
    client: Any, results: dict[str, TaskResult], spec: Callable[[str], TaskSpec], k: int, seed: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Run ``k`` randomly chosen stages that this fan-out computed again, each on another worker than the
    one that made it where there is one, in a private cache, and compare the outputs' hashes."""
    ran = sorted(n for n, r in results.items() if r.status == "ran" and r.outs)
    chosen = random.Random(seed).sample(ran, min(k, len(ran)))
    if not chosen:
        return (), ()
    workers = sorted(client.scheduler_info()["workers"])
    futures = {}
    for name in chosen:
        others = [w for w in workers if w != results[name].worker] or workers
        check = replace(spec(name), cache=None, force=True, push=False)
        futures[name] = client.submit(run_task, check, workers=others, pure=False, key=f"check-{name}")
    mismatches = []
    for name, future in futures.items():
        again = future.result()
        same = again.outs == results[name].outs
        where = "another worker" if again.worker != results[name].worker else "the same worker (the only one)"
        say(f"spot check {name} on {where}, {again.worker}: {'identical' if same else 'DIFFERENT'} outputs")
        if not same:
            mismatches.append(
                f"{name}: {results[name].worker} made {results[name].outs}, {again.worker} made {again.outs}"
            )
    return tuple(chosen), tuple(mismatches)


@dataclass(frozen=True)
class Options:
    """A fan-out as the command line asks for it (``python -m pipeline.scale --help``)."""

    root: Path
    cluster: ClusterOptions
    scheduler: str = "local"
    targets: tuple[str, ...] = ()
    integrate: tuple[str, ...] = INTEGRATE
    retries: int = 2
    spot_check: int = 1
    seed: int = 0
    cache: str = "auto"
    repo_url: str | None = None
    remote: str | None = None
    workdir: str | None = None
    keep: bool = False
    dry_run: bool = False


@dataclass(frozen=True)
class Setup:
    """What the integrating checkout knows before any task: the plan and what every task needs."""

    plan: Plan
    addresses: dict[str, str]
    targets: list[str]
    commit: str
    remote: Remote
    cache: str | None
    gpu: bool
    environ: tuple[tuple[str, str | None], ...]  # taken before any Dask nanny changes this process's


def runtime_device(root: Path) -> str:
    raw = yaml.safe_load((root / "params.yaml").read_text()) or {}
    return str((raw.get("runtime") or {}).get("device", "cpu"))


def resolve_cache(choice: str, repo: Any, repo_url: str | None) -> str | None:
    """``shared``: the checkout's own cache (workers see this filesystem); ``private``: one per task;
    ``auto``: shared unless the workers clone from a URL; anything else: a folder every worker uses."""
    if choice == "auto":
        choice = "private" if repo_url else "shared"
    if choice == "shared":
        return cache_dir(repo)
    if choice == "private":
        return None
    return str(Path(choice).expanduser().resolve())


def set_up(opts: Options) -> Setup:
    from dvc.repo import Repo

    commit = clean_commit(opts.root)
    with Repo(str(opts.root)) as repo:
        nodes = read_nodes(repo)
        plan = make_plan(nodes, changed_stages(repo, nodes), opts.targets, opts.integrate)
        targets = sorted(selected(nodes, opts.targets)) if opts.targets else []
        remote = default_remote(repo, opts.remote) if not opts.dry_run else Remote("", ())
        cache = resolve_cache(opts.cache, repo, opts.repo_url)
    addresses = {n.name: n.address for n in nodes.values()}
    gpu = runtime_device(opts.root) == "cuda"
    targets_ = [addresses[t] for t in targets]
    return Setup(plan, addresses, targets_, commit, remote, cache, gpu, own_environ())


def task_spec(opts: Options, setup: Setup) -> Callable[[str], TaskSpec]:
    def spec(name: str) -> TaskSpec:
        return TaskSpec(
            name,
            setup.addresses[name],
            opts.repo_url or str(opts.root),
            setup.commit,
            setup.remote,
            setup.cache,
            opts.workdir,
            opts.keep,
            environ=setup.environ,
        )

    return spec


def on_event(event: Any) -> None:
    _, msg = event
    say(f"{msg['stage']}: {msg['message']} (Dask retries it if retries are left)")


def check_integration(
    opts: Options, setup: Setup, results: dict[str, TaskResult]
) -> tuple[tuple[str, ...], str]:
    """Integrate; (the stages it ran, an error message or '')."""
    ran, rc, _ = integrate(opts.root, setup.targets, setup.environ)
    fanned = ran & set(setup.plan.names)
    if rc:
        return tuple(sorted(ran)), f"dvc repro --pull exited with {rc}"
    if fanned:
        return tuple(sorted(ran)), f"integration executed fanned-out stages {sorted(fanned)}"
    bad = lock_mismatches(opts.root, results, setup.addresses)
    if bad:
        return tuple(sorted(ran)), f"dvc.lock differs from what the tasks made for {bad}"
    if ran:
        return tuple(sorted(ran)), push_integrated(
            opts.root, [setup.addresses[n] for n in sorted(ran)], setup
        )
    return tuple(sorted(ran)), ""


def push_integrated(root: Path, addresses: list[str], setup: Setup) -> str:
    """Push what integration ran (the fan-ins), as the tasks pushed theirs: the remote then holds the
    whole study, for teammates and for the next fan-out. An error message, or ''."""
    argv = [sys.executable, "-m", "pipeline.tools.push", "-r", setup.remote.name]
    argv += [arg for address in addresses for arg in ("--stage", address)]
    env = environment(root / HISTORY.parent / "times", Path("/bin/sh"), setup.environ)
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, check=False)
    say(f"pushed what integration ran: {done.stdout.strip() or done.stderr.strip()}")
    return "" if done.returncode == 0 else f"push of what integration ran failed: {done.stderr.strip()}"


def fan_out(opts: Options) -> Outcome:
    start = time.perf_counter()
    setup = set_up(opts)
    for line in describe(setup.plan):
        say(line)
    warning = too_short(load_history(opts.root))
    if warning and setup.plan.tasks:
        say(f"warning (last fan-out): {warning}")
    if opts.dry_run or not (setup.plan.tasks or setup.plan.integrate):
        return Outcome({}, {}, wall=time.perf_counter() - start)
    if not setup.plan.tasks:
        integrated, error = check_integration(opts, setup, {})
        return Outcome({}, {}, integrated, error, wall=time.perf_counter() - start)
    spec = task_spec(opts, setup)
    with client(opts.scheduler, replace(opts.cluster, gpu=setup.gpu)) as c:
        c.subscribe_topic(EVENT_TOPIC, on_event)
        say(f"{len(setup.plan.tasks)} tasks on {opts.scheduler} ({opts.cluster.workers} workers)")
        results, failed = collect(submit(c, setup.plan, spec, opts.retries, setup.gpu))
        save_history(opts.root, results)
        if failed or not all(r.ok for r in results.values()):
            return Outcome(results, failed, wall=time.perf_counter() - start)
        integrated, error = check_integration(opts, setup, results)
        checked: tuple[str, ...] = ()
        mismatches: tuple[str, ...] = ()
        if not error:
            checked, mismatches = spot_check(c, results, spec, opts.spot_check, opts.seed)
    return Outcome(results, failed, integrated, error, checked, mismatches, time.perf_counter() - start)


def summarize(outcome: Outcome) -> list[str]:
    """The closing lines: counts by status, the time split, the warnings and errors."""
    r = list(outcome.results.values())
    if not r:
        done = f"integration ran {', '.join(outcome.integrated)}" if outcome.integrated else "nothing ran"
        return [f"no tasks; {done}"] + (
            [f"error: {outcome.integration_error}"] if outcome.integration_error else []
        )
    counts = {s: sum(x.status == s for x in r) for s in sorted({x.status for x in r})}
    lines = [
        f"{len(r)} tasks: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
        + f"; {outcome.wall:.0f} s in all"
    ]
    ran = [x for x in r if x.status == "ran"]
    if ran:
        lines.append(
            f"per task: {statistics.median(x.command for x in ran):.1f} s command, "
            f"{statistics.median(fixed_cost(x) for x in ran):.1f} s fixed cost (median, {len(ran)} ran)"
        )
    warning = too_short(r)
    if warning:
        lines.append(f"warning: {warning}")
    for name, message in outcome.failed.items():
        lines.append(f"error: {name}: {message}")
    lines += [f"error: {x.name}: {x.status}: {x.message}" for x in r if not x.ok]
    if outcome.integration_error:
        lines.append(f"error: {outcome.integration_error}")
    lines += [f"error: spot check: {m}" for m in outcome.mismatches]
    if outcome.spot_checked and not outcome.mismatches:
        lines.append(f"spot check: {', '.join(outcome.spot_checked)} made again, identical")
    return lines
