"""Scale benchmark of the analysis stages: ``stats`` and ``pie`` at ImageNet size.

    python scripts/bench_analysis.py [--examples 50000] [--members 30] [--configs 7] [--classes 1000]
                                     [--workdir DIR] [--keep] [--limit-seconds 60] [--limit-gb 4]

It generates, seeded and vectorized, the prediction tables of a synthetic study (50,000 test examples x 30
members x 7 configs = 10.5 million prediction rows over 1,000 classes by default; no logits, which the
analysis never reads), a prepared test split (labels, small fake images for the PIE gallery) and a params
file, then runs ``python -m pipeline.stages.stats`` and ``python -m pipeline.stages.pie`` on them, each as
its own child process, exactly as ``dvc repro`` would.

It measures each stage's wall time (``time.perf_counter`` around the child) and peak resident memory (the
child's own ``ru_maxrss`` from ``os.wait4``), and passes when the two stages together take at most
``--limit-seconds`` and neither peaks above ``--limit-gb`` (the target: 60 s and 4 GB on a 2-core
machine).  Generation runs in a separate process and is timed apart: it is not part of the figure.  (A
child's ``ru_maxrss`` includes the peak of the process that started it, because Linux records the old
address space's high-water mark at exec; so this process stays small and imports no NumPy.)

Exit status: 0 on PASS, 1 on FAIL or when a stage fails (its output is printed).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
STAGES = ("stats", "pie")
PATTERN = "{config}/clean/seed_{seed}.parquet"

# Compressed configs in order of increasing simulated damage, each with a recipe params.yaml accepts.
COMPRESSED: tuple[tuple[str, dict[str, Any]], ...] = (
    ("magnitude_30", {"prune": {"method": "magnitude", "sparsity": 0.3}}),
    ("int8_static", {"quantize": {"method": "int8_static"}}),
    ("magnitude_50", {"prune": {"method": "magnitude", "sparsity": 0.5}}),
    ("magnitude_70", {"prune": {"method": "magnitude", "sparsity": 0.7}}),
    (
        "magnitude_70+int8_static",
        {"prune": {"method": "magnitude", "sparsity": 0.7}, "quantize": {"method": "int8_static"}},
    ),
    ("magnitude_90", {"prune": {"method": "magnitude", "sparsity": 0.9}}),
    ("global_magnitude_90", {"prune": {"method": "magnitude", "scope": "global", "sparsity": 0.9}}),
    ("random_90", {"prune": {"method": "random", "sparsity": 0.9}}),
    ("int4_weight", {"quantize": {"method": "int4_weight"}}),
)
DENSE_ACCURACY = 0.76  # mean chance that a dense member predicts an example's label
CONFUSER_SHARE = 0.6  # share of wrong predictions that go to the example's own confusable class


@dataclass(frozen=True)
class Shape:
    examples: int
    members: int
    classes: int
    image_size: int
    configs: tuple[str, ...]  # "dense" first

    @property
    def rows(self) -> int:
        return self.examples * self.members * len(self.configs)


@dataclass(frozen=True)
class StageRun:
    name: str
    seconds: float
    peak_mb: float
    output: str


# ------------------------------------------------------------------------------------------- generation


def generate(work: Path, shape: Shape) -> None:
    """Prediction tables, the prepared test split and params.yaml under ``work`` (run in a child process)."""
    import numpy as np

    rng = np.random.default_rng(0)
    n, m, k = shape.examples, shape.members, shape.classes
    labels = rng.integers(0, k, n)
    # Per-example difficulty: the chance a dense member is right, Beta-distributed around DENSE_ACCURACY
    # (many easy examples near 1, a tail of hard ones), and one confusable class per example.
    ease = rng.beta(4.0 * DENSE_ACCURACY, 4.0 * (1 - DENSE_ACCURACY), n)
    confuser = (labels + rng.integers(1, k, n)) % k

    def wrong() -> np.ndarray:
        """A wrong class for every example: its confuser, or another class at random."""
        other = (labels + rng.integers(1, k, n)) % k
        return np.where(rng.random(n) < CONFUSER_SHARE, confuser, other)

    def confidence(correct: np.ndarray) -> np.ndarray:
        """Max-softmax in (1/K, 1]: high when right, middling when wrong."""
        u = np.where(correct, rng.beta(6.0, 1.5, n), rng.beta(2.0, 2.5, n))
        low = np.nextafter(np.float32(1 / k), np.float32(1))
        return np.clip(1 / k + (1 - 1 / k) * u, low, 1).astype(np.float32)

    def top5(pred: np.ndarray, correct: np.ndarray) -> np.ndarray:
        """Five distinct classes, ``pred`` first; a wrong member has the label among them 60% of the time."""
        width = min(5, k)
        out = np.empty((n, width), dtype=np.int64)
        out[:, 0] = pred
        base = rng.integers(1, k - width + 2, n)
        for j in range(1, width):
            out[:, j] = (pred + base + j - 1) % k
        if width > 1:
            slot = rng.integers(1, width, n)
            put = ~correct & (rng.random(n) < 0.6) & ~(out == labels[:, None]).any(axis=1)
            out[put, slot[put]] = labels[put]
        return out.astype(np.int16)

    def write(config: str, seed: int, pred: np.ndarray, p_pred: np.ndarray) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        correct = pred == labels
        p_label = np.where(correct, p_pred, rng.random(n) * np.minimum(p_pred, 1 - p_pred)).astype(np.float32)
        best = top5(pred, correct)
        table = pa.table(
            {
                "example_id": pa.array(np.arange(n, dtype=np.int32)),
                "label": pa.array(labels.astype(np.int16)),
                "pred": pa.array(pred.astype(np.int16)),
                "p_pred": pa.array(p_pred),
                "p_label": pa.array(p_label),
                "top5": pa.FixedSizeListArray.from_arrays(pa.array(best.reshape(-1)), best.shape[1]),
            }
        )
        path = work / "predict" / PATTERN.format(config=config, seed=seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")

    dense_pred = np.empty((m, n), dtype=np.int64)
    dense_p = np.empty((m, n), dtype=np.float32)
    for i in range(m):
        correct = rng.random(n) < ease
        dense_pred[i] = np.where(correct, labels, wrong())
        dense_p[i] = confidence(correct)
        write("dense", i, dense_pred[i], dense_p[i])
    for c, config in enumerate(shape.configs[1:], start=1):
        # Config c keeps a member's dense prediction with probability 1 - 0.02c; otherwise the member
        # predicts anew with an accuracy that falls with c, hard examples the most (ease ** (1 + c/4)).
        accuracy = ease ** (1 + 0.25 * c)
        for i in range(m):
            keep = rng.random(n) >= 0.02 * c
            correct = rng.random(n) < accuracy
            pred = np.where(keep, dense_pred[i], np.where(correct, labels, wrong()))
            p_pred = np.where(keep, dense_p[i], confidence(pred == labels))
            write(config, i, pred, p_pred)

    prepared = work / "prepared"
    prepared.mkdir(parents=True, exist_ok=True)
    side = shape.image_size
    np.save(prepared / "test_labels.npy", labels.astype(np.int64), allow_pickle=False)
    np.save(prepared / "test_images.npy", rng.integers(0, 256, (n, 1, side, side), dtype=np.uint8))
    meta = {
        "format": 1,
        "name": "bench",
        "class_names": [f"class_{c:04d}" for c in range(k)],
        "attribute_names": [],
        "image_shape": [1, side, side],
        "sizes": {"train": 0, "val": 0, "test": n},
        "sha256": "bench",
    }
    (prepared / "meta.json").write_text(json.dumps(meta) + "\n")

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["population"]["seeds"] = list(range(m))
    params["compress"]["configs"] = {"dense": {}} | dict(COMPRESSED[: len(shape.configs) - 1])
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def generate_apart(work: Path, shape: Shape) -> float:
    """Run :func:`generate` in a fresh process (its memory never counts towards a stage's peak); seconds."""
    start = time.perf_counter()
    process = multiprocessing.get_context("spawn").Process(target=generate, args=(work, shape))
    process.start()
    process.join()
    if process.exitcode != 0:
        sys.exit(f"generation failed with exit code {process.exitcode}")
    return time.perf_counter() - start


# -------------------------------------------------------------------------------------------- measuring


def run_stage(name: str, work: Path) -> StageRun:
    """Run one stage as a child process; its wall time and its own peak resident memory."""
    command = [
        sys.executable,
        "-m",
        f"pipeline.stages.{name}",
        "--params",
        str(work / "params.yaml"),
        "--predictions",
        str(work / "predict" / PATTERN),
        "--data",
        str(work / "prepared"),
        "--out",
        str(work / name),
    ]
    with tempfile.TemporaryFile(mode="w+") as log:  # a file, not a pipe: a full pipe would block the child
        start = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=REPO, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    if child.returncode != 0:
        print(f"{name} failed with exit code {child.returncode}:\n{output}", file=sys.stderr)
        sys.exit(1)
    return StageRun(name, seconds, usage.ru_maxrss / 1024, output)  # ru_maxrss: kilobytes on Linux


# ------------------------------------------------------------------------------------------------ main


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--examples", type=int, default=50_000, help="test examples (default 50,000)")
    p.add_argument("--members", type=int, default=30, help="members per population (default 30)")
    p.add_argument(
        "--configs",
        type=int,
        default=7,
        help=f"configs, dense included (2 to {len(COMPRESSED) + 1}, default 7)",
    )
    p.add_argument("--classes", type=int, default=1000, help="classes (default 1,000)")
    p.add_argument(
        "--workdir", type=Path, default=None, help="working folder (default: a fresh temporary one)"
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary working folder")
    p.add_argument("--image-size", type=int, default=16, help="side of the fake test images (default 16)")
    p.add_argument("--limit-seconds", type=float, default=60.0, help="wall-time limit of both stages")
    p.add_argument("--limit-gb", type=float, default=4.0, help="peak-memory limit of each stage (GiB)")
    p.add_argument("--verbose", action="store_true", help="print the stages' own log lines")
    args = p.parse_args()
    if not 2 <= args.configs <= len(COMPRESSED) + 1:
        p.error(f"--configs must be 2 to {len(COMPRESSED) + 1}")
    if args.classes < 6 or args.examples < 1 or args.members < 1:
        p.error("need at least 6 classes, 1 example and 1 member")

    names = ("dense", *(name for name, _ in COMPRESSED[: args.configs - 1]))
    shape = Shape(args.examples, args.members, args.classes, args.image_size, names)
    temporary = args.workdir is None
    work = Path(tempfile.mkdtemp(prefix="bench_analysis_")) if temporary else args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(
            f"{shape.examples:,} examples x {shape.members} members x {len(names)} configs = "
            f"{shape.rows:,} prediction rows, {shape.classes:,} classes; {os.cpu_count()} CPUs; in {work}"
        )
        print(f"generation: {generate_apart(work, shape):.1f} s (not measured)", flush=True)
        runs = [run_stage(name, work) for name in STAGES]
        return report(work, runs, args.limit_seconds, args.limit_gb, args.verbose)
    finally:
        if temporary and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            print(f"kept {work}")


def report(work: Path, runs: list[StageRun], limit_s: float, limit_gb: float, verbose: bool) -> int:
    """Print the stages' figures, the data's realism (top-1, PIE fraction) and the verdict; exit status."""
    stats = json.loads((work / "stats" / "summary.json").read_text())["configs"]
    pies = json.loads((work / "pie" / "summary.json").read_text())["configs"]
    if verbose:
        for run in runs:
            print(f"--- {run.name} log\n{run.output.rstrip()}")
    print(f"{'config':<26} {'top-1':>7} {'drop':>8} {'churn':>7} {'PIEs':>7} {'PIE fraction':>13}")
    for name, s in stats.items():
        pie = pies.get(name)
        pie_cells = f"{pie['pies']:>7} {pie['pie_fraction']:>13.4f}" if pie else f"{'-':>7} {'-':>13}"
        print(f"{name:<26} {s['top1']:>7.4f} {s['top1_drop']:>+8.4f} {s['churn']:>7.4f} {pie_cells}")
    for run in runs:
        print(f"{run.name}: {run.seconds:.1f} s, peak {run.peak_mb:.0f} MB")
    total = sum(run.seconds for run in runs)
    peak = max(run.peak_mb for run in runs)
    limit_mb = limit_gb * 1024
    ok = total <= limit_s and peak <= limit_mb
    print(
        f"total: {total:.1f} s (limit {limit_s:g} s), peak {peak:.0f} MB (limit {limit_mb:.0f} MB): "
        f"{'PASS' if ok else 'FAIL'}"
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process peaked at {own:.0f} MB, the floor of every child's figure)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
