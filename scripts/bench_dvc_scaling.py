"""DVC's own time per stage as the study grows (issue 15, point 4): the project's real dvc.yaml files and
params.yaml, for S seeds x C configs, with every stage command replaced by a shell no-op that writes the
stage's outputs, so that what is timed is DVC (templating, the graph, hashing, the lock files, the run
cache) and not the science.

    python scripts/bench_dvc_scaling.py                      # 12 configs x 5, 10 and 30 seeds
    python scripts/bench_dvc_scaling.py --grid 12x5 24x15    # configs x seeds
    python scripts/bench_dvc_scaling.py --dvc-args=--no-commit

Prints, per grid: the number of stages, the wall time of `dvc repro` from scratch and per stage, and of a
second `dvc repro` (everything up to date), with the machine's matmul rate measured in the same run so that
figures from different runs can be compared. Nothing in the repository is touched (a temporary copy).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from bench_predict import matmul_flops_per_second  # the reference rate every benchmark prints

REPO = Path(__file__).resolve().parent.parent
DVC_FILES = ["dvc.yaml", *(str(p.relative_to(REPO)) for p in sorted(REPO.glob("families/*/dvc.yaml")))]
FILE_SUFFIXES = {".safetensors", ".json", ".csv", ".npy", ".html", ".png", ".txt"}


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def out_paths(stage: dict[str, Any]) -> list[str]:
    """Every path the stage writes (outs, metrics, plots), templated or not."""
    paths = []
    for key in ("outs", "metrics", "plots"):
        for entry in stage.get(key, []):
            paths.append(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return paths


def noop(paths: list[str], deps: set[str]) -> str:
    """A shell line writing each path: a file for a name with a file suffix, else a folder with a file and
    every file in ``deps`` (other stages' dependencies) that lies in it, such as data/code/<stage>.json."""
    parts = []
    for p in paths:
        if Path(p).suffix in FILE_SUFFIXES:
            parts.append(f"mkdir -p $(dirname '{p}') && echo '{p}' > '{p}'")
            continue
        parts.append(f"mkdir -p '{p}' && echo '{p}' > '{p}/x'")
        parts += [f"echo '{d}' > '{d}'" for d in sorted(deps) if d.startswith(f"{p}/") and "$" not in d]
    return " && ".join(parts) or "true"


def scaled_params(configs: int, seeds: int) -> dict[str, Any]:
    """params.yaml with ``seeds`` members and ``configs`` configs (dense and copies of magnitude_50)."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["population"]["seeds"] = list(range(seeds))
    recipe = raw["compress"]["configs"]["magnitude_50"]
    raw["compress"]["configs"] = {"dense": {}} | {f"cfg_{i:03d}": recipe for i in range(1, configs)}
    return raw


def build(root: Path, configs: int, seeds: int, layout: str = "single") -> int:
    """The scaled project in ``root`` (a git and DVC repository), its compress family in ``layout``
    (pipeline/layout.py); returns its number of stages."""
    shutil.copytree(REPO / "pipeline", root / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    for rel in (".gitignore", ".dvcignore"):
        shutil.copy2(REPO / rel, root / rel)
    (root / "data").mkdir()
    (root / "params.yaml").write_text(yaml.safe_dump(scaled_params(configs, seeds), sort_keys=False))
    files = {rel: yaml.safe_load((REPO / rel).read_text()) for rel in DVC_FILES}
    stages = [stage for raw in files.values() for stage in raw["stages"].values()]
    deps = {dep for stage in stages for dep in stage.get("deps", [])}
    for rel, raw in files.items():
        for stage in raw["stages"].values():
            stage["cmd"] = noop(out_paths(stage), deps)
        raw.pop("plots", None)  # the plot definitions do not change what repro does
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(yaml.safe_dump(raw, sort_keys=False))
    if layout == "per-seed":
        run(root, sys.executable, "-m", "pipeline.tools.layout", "--per-seed")
    run(root, "git", "init", "-q")
    run(root, "dvc", "init", "-q")
    run(root, "git", "add", "-A")
    run(root, "git", "-c", "user.name=b", "-c", "user.email=b@example.org", "commit", "-qm", "bench")
    listed = run(root, "dvc", "stage", "list", "--all")
    return len([line for line in listed.splitlines() if line.strip()])


def run(cwd: Path, *argv: str) -> str:
    exe = str(Path(sys.executable).parent / argv[0]) if argv[0] == "dvc" else argv[0]
    result = subprocess.run([exe, *argv[1:]], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed in {cwd}:\n{result.stdout}{result.stderr}")
    return result.stdout


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--grid", nargs="+", default=["12x5", "12x10", "12x30"], help="CONFIGSxSEEDS, e.g. 12x30")
    p.add_argument("--dvc-args", default="", help="extra `dvc repro` arguments, e.g. --no-commit")
    p.add_argument(
        "--layout",
        nargs="+",
        default=["single", "per-seed"],
        choices=["single", "per-seed"],
        help="the compress family's DVC files (pipeline/layout.py): each grid runs in each layout",
    )
    args = p.parse_args(argv)
    print(f"matmul: {matmul_flops_per_second() / 1e9:.1f} GFLOP/s (2048x2048 float32, as bench_predict.py)")
    columns = ("layout", "grid", "cells", "stages", "repro s", "s/stage", "again s", "s/stage")
    print(" ".join(f"{c:>8}" for c in columns))
    for layout, grid in ((layout, grid) for layout in args.layout for grid in args.grid):
        configs, seeds = (int(n) for n in grid.split("x"))
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            stages = build(root, configs, seeds, layout)
            extra = args.dvc_args.split()
            first = _timed(lambda: run(root, "dvc", "repro", *extra))  # noqa: B023 (called at once)
            again = _timed(lambda: run(root, "dvc", "repro"))  # noqa: B023
        print(
            f"{layout:>8} {grid:>8} {configs * seeds:>8} {stages:>8} {first:>8.1f} {first / stages:>8.3f} "
            f"{again:>8.1f} {again / stages:>8.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
