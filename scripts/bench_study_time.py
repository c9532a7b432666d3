"""Where the study's wall time goes (issue 15, point 3): per stage family, computation against fixed cost.

    python scripts/bench_study_time.py                                   # `dvc repro` here, timed
    python scripts/bench_study_time.py --command "bash scripts/bootstrap.sh study" --repo /tmp/fresh
    python scripts/bench_study_time.py --command "dvc repro -f --no-run-cache train" --repo /tmp/fresh

It runs the command with a ``sitecustomize`` on ``PYTHONPATH`` that logs when each Python process starts
and ends (DVC's own process and each stage's, which DVC names in ``DVC_STAGE``), then splits each stage's
share of the wall time into:

- **DVC**: from the previous stage's end to this stage's process start (DVC checks, hashes and writes the
  lock files and the run-cache between commands; before the first stage, it builds the graph);
- **start-up**: the interpreter and the imports the stage runs: measured afterwards as the wall time of
  ``python -c "import <every pipeline module the stage imports>"`` (its ``data/code`` closure; torch and the
  libraries come with it), median of 3;
- **compute**: the rest of the stage's process.

Fixed cost is DVC plus start-up. The machine's float32 matrix-multiply rate is printed before and after, so
figures from different runs (or a run disturbed by other load) can be compared. Nothing in the repository
is changed besides what the command itself does.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench_predict import matmul_flops_per_second

SITECUSTOMIZE = """
import atexit, json, os, sys, time
_log, _start = os.environ.get("STUDY_TIMES_LOG"), time.time()
if _log:
    def _write():
        with open(_log, "a") as f:
            stage, end = os.environ.get("DVC_STAGE"), time.time()
            f.write(json.dumps({"stage": stage, "start": _start, "end": end, "argv": sys.argv}) + "\\n")
    atexit.register(_write)
"""


@dataclass(frozen=True)
class Process:
    stage: str | None
    start: float
    end: float
    argv: list[str]


@dataclass
class Family:
    stages: int = 0
    wall: float = 0.0
    dvc: float = 0.0
    startup: float = 0.0
    compute: float = 0.0


def run_logged(command: str, repo: Path, log: Path) -> float:
    """Run ``command`` in ``repo`` with the process logger on; its wall time. Stops on a failure."""
    with tempfile.TemporaryDirectory() as site:
        Path(site, "sitecustomize.py").write_text(SITECUSTOMIZE)
        env = dict(os.environ, STUDY_TIMES_LOG=str(log))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (site, env.get("PYTHONPATH", "")) if p)
        start = time.perf_counter()
        done = subprocess.run(command, shell=True, cwd=repo, env=env)
        seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"error: `{command}` exited with status {done.returncode}")
    return seconds


def read_log(log: Path) -> list[Process]:
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []
    return sorted((Process(r["stage"], r["start"], r["end"], r["argv"]) for r in rows), key=lambda p: p.start)


def family_of(stage: str) -> str:
    """``families/compress/dvc.yaml:compress@dense-0`` -> ``compress``."""
    return stage.rpartition(":")[2].partition("@")[0]


def entry_module(process: Process) -> str | None:
    """``pipeline.stages.compress`` of ``python -m pipeline.stages.compress ...`` (argv[0] is the file)."""
    path = Path(process.argv[0]) if process.argv else None
    if path is None or path.suffix != ".py" or path.parent.name != "stages":
        return None
    return f"pipeline.stages.{path.stem}"


def startup_seconds(python: str, repo: Path, module: str, repeats: int = 3) -> float:
    """Wall time of a Python process that imports every pipeline module ``module`` runs (median)."""
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))  # the measured repository's own import follower
    from pipeline.closure import closure, module_name

    files = closure(repo, repo.joinpath(*module.split(".")).with_suffix(".py"))
    names = sorted(module_name(repo, repo / f) for f in files)
    code = "import " + ", ".join(names)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([python, "-c", code], cwd=repo, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def split(processes: list[Process], python: str, repo: Path) -> tuple[dict[str, Family], float, float]:
    """Per family, and DVC's time before the first stage and after the last."""
    stages = [p for p in processes if p.stage]
    dvc = [p for p in processes if not p.stage and any(Path(a).name == "dvc" for a in p.argv[:1])]
    first_start = dvc[0].start if dvc else (stages[0].start if stages else 0.0)
    startup: dict[str, float] = {}
    families: dict[str, Family] = defaultdict(Family)
    previous_end = None
    for p in stages:
        module = entry_module(p)
        if module and module not in startup:
            startup[module] = startup_seconds(python, repo, module)
        f = families[family_of(p.stage or "")]
        gap = p.start - previous_end if previous_end is not None else 0.0
        f.stages += 1
        f.wall += gap + (p.end - p.start)
        f.dvc += gap
        f.startup += min(startup.get(module or "", 0.0), p.end - p.start)
        f.compute += max(p.end - p.start - startup.get(module or "", 0.0), 0.0)
        previous_end = p.end
    before = stages[0].start - first_start if stages else 0.0
    after = (max(d.end for d in dvc) - previous_end) if dvc and previous_end else 0.0
    return dict(families), before, after


def fmt_s(seconds: float) -> str:
    return f"{int(seconds // 60)} m {seconds % 60:4.1f} s" if seconds >= 60 else f"{seconds:.1f} s"


def report(families: dict[str, Family], before: float, after: float, wall: float) -> str:
    head = f"{'family':<28}{'stages':>7}{'wall':>12}{'compute':>12}{'start-up':>12}{'DVC':>10}{'fixed':>8}"
    lines = [head, "-" * len(head)]
    total = Family()
    for name, f in sorted(families.items(), key=lambda kv: -kv[1].wall):
        fixed = (f.dvc + f.startup) / f.wall if f.wall else 0.0
        lines.append(
            f"{name:<28}{f.stages:>7}{fmt_s(f.wall):>12}{fmt_s(f.compute):>12}{fmt_s(f.startup):>12}"
            f"{fmt_s(f.dvc):>10}{fixed:>8.0%}"
        )
        for key in ("stages", "wall", "dvc", "startup", "compute"):
            setattr(total, key, getattr(total, key) + getattr(f, key))
    dvc = total.dvc + before + after
    span = total.wall + before + after
    fixed = (dvc + total.startup) / span if span else 0.0
    lines += [
        "-" * len(head),
        f"{'stages':<28}{total.stages:>7}{fmt_s(total.wall):>12}{fmt_s(total.compute):>12}"
        f"{fmt_s(total.startup):>12}{fmt_s(total.dvc):>10}",
        f"DVC before the first stage (start-up, graph, hashing): {fmt_s(before)}; "
        f"after the last: {fmt_s(after)}",
        f"the command's wall time: {fmt_s(wall)} (outside DVC's stages: {fmt_s(wall - total.wall)})",
        f"fixed cost (DVC + start-up) over DVC's span of {fmt_s(span)}: {fixed:.0%}"
        f" (compute {total.compute / span:.0%})"
        if span
        else "no stage ran",
    ]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--command", default="dvc repro", help="what to time (default: dvc repro)")
    p.add_argument("--repo", type=Path, default=Path("."), help="where to run it (default: here)")
    p.add_argument("--python", help="the Python that measures start-up (default: REPO/.venv/bin/python)")
    args = p.parse_args()
    repo = args.repo.resolve()
    venv = repo / ".venv" / "bin" / "python"
    python = args.python or (str(venv) if venv.exists() else sys.executable)
    rate = matmul_flops_per_second() / 1e9
    print(f"matmul rate before: {rate:.0f} GFLOP/s (float32, 2048x2048)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "processes.jsonl"
        wall = run_logged(args.command, repo, log)
        processes = read_log(log)
    families, before, after = split(processes, python, repo)
    print(f"\n$ {shlex.quote(args.command) if ' ' not in args.command else args.command}  (in {repo})")
    print(report(families, before, after, wall))
    print(f"matmul rate after: {matmul_flops_per_second() / 1e9:.0f} GFLOP/s")


if __name__ == "__main__":
    main()
