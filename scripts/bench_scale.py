"""Fan-out against serial ``dvc repro`` on a study whose compress cells take 30 s or more.

    python scripts/bench_scale.py                      # 2 workers, 2 seeds x 4 pruning configs
    python scripts/bench_scale.py --finetune-epochs 8 --workers 2 --population 30 --configs 12

Builds a study in a temporary folder from this repository's code and dvc.yaml files: synthetic 28x28
images in 10 classes (18,000 training images), ``small_cnn``, one training epoch, and pruning configs
fine-tuned for ``--finetune-epochs`` epochs, every torch stage on one thread (``runtime.threads: 1``, so
each process uses one core and the serial run and the workers compute the same bytes). Upstream of the
cells (code, validate, prepare, the dense members) runs once; then two copies of that checkout and its
cache run the cell phase, ``compress@*``:

- serial: ``dvc repro`` of the cells;
- fan-out: ``python -m pipeline.scale 'compress@*' -j N`` (LocalCluster, shared cache, a folder remote,
  no spot check), integration included.

It prints both wall times, the speedup, the per-task fixed cost (task wall time minus the stage
command's), checks that the compress family's ``dvc.lock`` has the same entries in both copies (every
output hash equal; the order of entries is DVC's order of the targets, which differs), and models
the wall time of a population of P members x C configs on N workers from the measured cell time and
fixed cost: ceil(P*C / N) * (cell + fixed) against P*C * cell serially (plus DVC's own per-stage time in
both, from scripts/bench_dvc_scaling.py: --dvc-per-stage). Prints the machine's matmul rate before and
after.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from bench_predict import matmul_flops_per_second  # the reference rate every benchmark prints

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e_study import copy_project  # noqa: E402  (the project's files, as the e2e tests copy them)

BIN = Path(sys.executable).parent
PRUNE = {"method": "magnitude", "scope": "layer", "schedule": "finetune", "lr": 0.05, "initial_sparsity": 0.0}
PRUNE |= {"end_fraction": 0.75, "frequency": 20, "include_classifier": False}


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e['PATH']}"
    e |= {"DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.org"}
    return e | {"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.org"}


def sh(cwd: Path, *argv: str) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env(), capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed in {cwd}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout + done.stderr


def params(seeds: int, finetune_epochs: float) -> dict[str, Any]:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["prepare"] |= {"dataset": "synthetic", "val_fraction": 0.1}
    raw["prepare"]["synthetic"] = {
        "num_classes": 10,
        "image_size": 28,
        "channels": 1,
        "train_size": 20000,
        "test_size": 1000,
    }
    raw["train"]["epochs"] = 1
    raw["runtime"]["threads"] = 1
    raw["population"]["seeds"] = list(range(seeds))

    def prune(sparsity: float, method: str = "magnitude") -> dict[str, Any]:
        return {"prune": PRUNE | {"method": method, "sparsity": sparsity, "finetune_epochs": finetune_epochs}}

    raw["compress"]["configs"] = {
        "dense": {},
        "magnitude_50": prune(0.5),
        "magnitude_70": prune(0.7),
        "magnitude_90": prune(0.9),
        "random_90": prune(0.9, "random"),
    }
    raw["corrupt"] |= {"corruptions": ["gaussian_noise"], "severities": [1], "sample_size": 64}
    return raw


def build(root: Path, seeds: int, finetune_epochs: float) -> Path:
    """The study, committed, with everything upstream of the cells run (serially, once)."""
    base = root / "base"
    copy_project(base)
    (base / "params.yaml").write_text(yaml.safe_dump(params(seeds, finetune_epochs), sort_keys=False))
    sh(base, "git", "init", "-q")
    sh(base, "dvc", "init", "-q")
    shutil.copytree(REPO / ".dvc/plots", base / ".dvc/plots")
    sh(base, "dvc", "remote", "add", "-d", "bench", str(root / "remote"))
    upstream = [f"train@{s}" for s in range(seeds)]
    sh(base, "dvc", "repro", *upstream)
    sh(base, "git", "add", "-A")
    sh(base, "git", "commit", "-qm", "upstream of the cells")
    return base


def timed(cwd: Path, *argv: str) -> tuple[float, str]:
    start = time.perf_counter()
    out = sh(cwd, *argv)
    return time.perf_counter() - start, out


def cells(base: Path) -> list[str]:
    stages = yaml.safe_load((base / "families/compress/dvc.yaml").read_text())["stages"]
    seeds = yaml.safe_load((base / "params.yaml").read_text())["population"]["seeds"]
    configs = yaml.safe_load((base / "params.yaml").read_text())["compress"]["configs"]
    (name,) = stages  # the matrix stage
    return [f"families/compress/dvc.yaml:{name}@{c}-{s}" for c in configs for s in seeds]


def model(
    cell: float, fixed: float, dvc: float, members: int, configs: int, workers: int
) -> tuple[float, float]:
    """(serial, fanned out) seconds for members x configs cells of ``cell`` seconds."""
    n = members * configs
    serial = n * (cell + dvc)
    fanned = math.ceil(n / workers) * (cell + fixed) + n * dvc  # integration restores each stage once
    return serial, fanned


def cell_phase(root: Path, base: Path, workers: int) -> tuple[float, float, float, float, bool]:
    """(serial s, fanned-out s, median cell command s, median fixed cost per task s, locks identical)."""
    serial, fanned = root / "serial", root / "fanned"
    shutil.copytree(base, serial, symlinks=True)
    shutil.copytree(base, fanned, symlinks=True)
    t_serial, _ = timed(serial, "dvc", "repro", *cells(base))
    argv = [
        str(BIN / "python"),
        "-m",
        "pipeline.scale",
        "compress@*",
        "-j",
        str(workers),
        "--spot-check",
        "0",
    ]
    t_fan, out = timed(fanned, *argv)
    print("\n".join(line for line in out.splitlines() if line.startswith("[scale] [") or "per task" in line))
    history = json.loads((fanned / ".dvc/tmp/scale/last.json").read_text())
    ran = [r for r in history.values() if r["status"] == "ran"]
    cell = statistics.median(r["command"] for r in ran)
    fixed = statistics.median(r["wall"] - r["command"] for r in ran)
    # The same entries; their order in the file is DVC's order of the targets, which differs between
    # `dvc repro T1 ... Tn` and the integration's `dvc repro --pull T1 ... Tn`, so compare them parsed.
    lock = "families/compress/dvc.lock"
    same = yaml.safe_load((serial / lock).read_text()) == yaml.safe_load((fanned / lock).read_text())
    return t_serial, t_fan, cell, fixed, same


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--finetune-epochs", type=float, default=8.0)
    p.add_argument("--population", type=int, default=30, help="members per config of the modelled study")
    p.add_argument("--configs", type=int, default=12, help="configs of the modelled study")
    p.add_argument("--dvc-per-stage", type=float, default=0.21, help="DVC's own seconds per stage (model)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = p.parse_args()

    print(f"matmul (float32 2048^2): {matmul_flops_per_second() / 1e9:.0f} GFLOP/s before")
    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        start = time.perf_counter()
        base = build(root, args.seeds, args.finetune_epochs)
        print(f"upstream of the cells ({args.seeds} dense members): {time.perf_counter() - start:.0f} s")
        t_serial, t_fan, cell, fixed, same = cell_phase(root, base, args.workers)
        n = len(cells(base))
        print(f"\ncell phase: {n} compress cells, {args.finetune_epochs} fine-tuning epochs, 1 thread each")
        print(f"  serial dvc repro:     {t_serial:6.1f} s")
        print(
            f"  pipeline.scale -j {args.workers}: {t_fan:6.1f} s, speedup {t_serial / t_fan:.2f}x"
            " (integration included)"
        )
        print(f"  per cell: {cell:.1f} s command (median), {fixed:.1f} s fixed cost per task")
        print(f"  compress dvc.lock: the same entries, every output hash equal: {same}")
        serial_model, _ = model(cell, fixed, args.dvc_per_stage, args.population, args.configs, 1)
        print(f"\nmodel: {args.population} members x {args.configs} configs, cells of {cell:.1f} s")
        print(f"  serial: {serial_model / 60:.1f} min")
        for workers in (2, 4, 8, 16, 32, 64):
            _, f = model(cell, fixed, args.dvc_per_stage, args.population, args.configs, workers)
            print(f"  {workers:2d} workers: {f / 60:6.1f} min, speedup {serial_model / f:.1f}x")
        print(f"matmul (float32 2048^2): {matmul_flops_per_second() / 1e9:.0f} GFLOP/s after")
        return 0 if same else 1
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
