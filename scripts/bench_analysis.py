"""Scale benchmark of the analysis stages: ``traits``, ``stats`` and ``pie`` at ImageNet size, optionally
against a baseline revision of the code on the same data.

    python scripts/bench_analysis.py [--examples 50000] [--members 30] [--configs 7] [--classes 1000]
                                     [--feature-width 512] [--baseline REV] [--repeats 1]
                                     [--workdir DIR] [--keep]
                                     [--limit-seconds 60] [--limit-gb 4]

It generates, seeded and vectorized, a synthetic study through the project's own writers: the clean
prediction tables and their logits (``pipeline.io.predictions.write_predictions``; 50,000 test examples x 30
members x 7 configs = 10.5 million prediction rows over 1,000 classes by default), the prepared test split
(``pipeline.io.prepared.save_prepared``: labels, small fake images for the PIE gallery, empty train and val
splits), the dense members' atypicality (``pipeline.io.atypicality.write_atypicality``: 30 x 50,000, each
measured in a synthetic penultimate representation of width 512, ResNet-18's) and a params.yaml
(``population.seeds`` = the members, ``compress.configs`` = the configs, each entry copied from the measured
code's own params.yaml). Then it runs ``python -m pipeline.stages.traits``, ``stats`` and ``pie`` on them,
each as its own child process, exactly as ``dvc repro`` would.

The data are shaped like a real study's: each example has a difficulty (the chance a dense member gets it
right, mean 0.76) and a confusable class, and 5% carry a wrong label (ImageNet's validation set has about
6%), which compression forgets first; a compressed config keeps most of a member's dense predictions and
predicts the rest anew, worse the more damaged the config. The dense members' logits are realistic, because
``traits`` reads them in full (label issues with cleanlab, margin, entropy): Gaussian logits in which the
predicted class gets the largest one, lifted so that its softmax is the member's drawn confidence, and every
column of the table (pred, p_pred, p_label, top5) is taken from those very float16 logits. Each member's
representation (from which its atypicality is measured, as the ``atypicality`` stage measures it; that stage
runs the models, so it is not part of this benchmark) lies in a space of its own (its own class centroids),
each example near the centroid of the class the member sees in it, farther out the harder it is. The
compressed configs' logits are only ever checked for their shape (the memory-mapped header), so they are
zeros, written by ``write_predictions`` and then made a sparse file in place: the same bytes, so the SHA-256
their table records still holds (``read_logits`` accepts them), but no disk blocks.

Disk use at the defaults (printed before generating, with what the folder really takes after): 3.4 GB, of
which the dense logits 30 x 50,000 x 1,000 x 2 bytes = 3.0 GB, the atypicality 6 MB, the tables about 0.25 GB
(~24 bytes a row), the prepared split 13 MB and the stages' outputs about 0.15 GB per measured code
(confusion matrices, PIE galleries); with ``--baseline`` 3.5 GB. The compressed logits' 18 GB are apparent
size only (a copy that does not keep holes, ``cp`` without ``--sparse`` or a DVC add, would write them out).
``--members`` and ``--classes`` scale the dense logits linearly; generation refuses to start when the disk is
short. It takes about 3 minutes at the defaults (4.5 s per dense member, 0.2 s per compressed one, on 2 busy
cores).

With ``--baseline REV`` the stages also run from a ``git worktree`` of this repository at REV (made in a
temporary folder, removed at the end; the main work tree is not touched), as ``python -m pipeline.stages.X``
with that tree as working directory and PYTHONPATH, so its own ``pipeline`` package is imported (checked
before measuring), on the same generated data and with a params.yaml made from REV's own params.yaml; a stage
REV does not have (``traits`` before issue 17) is not run for it, and REV's ``pie`` gets ``--traits`` only if
REV has that stage. Current and baseline runs alternate; with ``--repeats R`` each stage runs R times per
code and the fastest run (and the highest peak) counts. It prints, per stage, both wall times and peaks and
the added share (current / baseline - 1), for the stages that rerun whenever a compression config is added or
changed (``stats`` and ``pie``) and for all of them (with ``traits``, which reruns only for a new dense
population): issue 17 asks that the new analysis (label issues, traits, power, leave-one-out stability) add
at most 10% to the fan-in stages' time at the 10.5 M-row scale, so measure against the revision before it,
e.g. ``--baseline 7e561dc``.

It measures each stage's wall time (``time.perf_counter`` around the child) and peak resident memory (the
child's own ``ru_maxrss`` from ``os.wait4``), and passes when the current code's stages together take at most
``--limit-seconds`` and none peaks above ``--limit-gb`` (the target: 60 s and 4 GB on a 2-core machine).
Generation runs in a separate process and is timed apart: it is not part of the figure. (A child's
``ru_maxrss`` includes the peak of the process that started it, because Linux records the old address space's
high-water mark at exec; so this process stays small and imports no NumPy: generation and the matrix-multiply
rate, printed before and after as every benchmark here does, run in child processes.)

Exit status: 0 on PASS, 1 on FAIL or when a stage fails (its output is printed), 2 on a usage error."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

if TYPE_CHECKING:
    import numpy as np

REPO = Path(__file__).resolve().parent.parent
STAGES = ("traits", "stats", "pie")  # in dvc.yaml's order; a baseline without a stage skips it
RECURRING = ("stats", "pie")  # rerun for every new or changed config; traits only for a new dense population
# Compressed configs in order of increasing simulated damage; their entries come from params.yaml.
COMPRESSED = (
    "magnitude_30",
    "int8_static",
    "magnitude_50",
    "magnitude_70",
    "magnitude_70+int8_static",
    "magnitude_90",
    "global_magnitude_90",
    "random_90",
    "int4_weight",
)
DENSE_ACCURACY = 0.76  # mean chance that a dense member predicts an example's true class
CONFUSER_SHARE = 0.6  # share of wrong predictions that go to the example's own confusable class
MISLABELLED = 0.05  # share of test examples whose given label is wrong (ImageNet's validation set: ~6%)
FRAGILE = 10.0  # how much faster compression damages a mislabelled example's predictions
LABEL_IN_TOP5 = 0.6  # share of wrong predictions that still rank the label among the best five
MIN_MARGIN = 0.05  # least logit gap between the predicted class and the next (float16 keeps it)
ISSUE_17_SHARE = 0.10  # the most the new analysis may add to the two stages' time
# Disk: a float16 (N, K) .npy is N*K*2 bytes plus a 128-byte header; a sparse one takes one 4-KiB block.
# A table row takes ~24 bytes (zstd Parquet, 1,000 classes; measured at 50,000 x 1,000 x 2 members x 3).
NPY_HEADER, BLOCK, TABLE_ROW_BYTES = 128, 4096, 24
GB = 1e9
T = TypeVar("T")


@dataclass(frozen=True)
class Shape:
    examples: int
    members: int
    classes: int
    image_size: int
    configs: tuple[str, ...]  # "dense" first
    width: int = 512  # the dense members' penultimate width (ResNet-18's; ResNet-50 has 2,048)

    @property
    def rows(self) -> int:
        return self.examples * self.members * len(self.configs)


@dataclass(frozen=True)
class Code:
    """One measured version of the code: its label, its root (with ``pipeline/`` and params.yaml), the
    params file it reads and its output folder."""

    label: str
    root: Path
    params: Path
    out: Path


@dataclass(frozen=True)
class StageRun:
    name: str
    seconds: float
    peak_mb: float
    output: str


# ------------------------------------------------------------------------------------------- generation


@dataclass
class Study:
    """The synthetic test split's labels and difficulty, and the random source of every member."""

    rng: np.random.Generator
    labels: np.ndarray  # (N,) int64, the given labels
    truth: np.ndarray  # (N,) the class the members learn to see: the label, but for the mislabelled
    ease: np.ndarray  # (N,) the chance that a dense member predicts the truth
    confuser: np.ndarray  # (N,) each example's confusable class
    classes: int

    @classmethod
    def new(cls, examples: int, classes: int) -> Study:
        """Per-example difficulty, Beta-distributed around DENSE_ACCURACY (many easy examples near 1, a
        tail of hard ones), one confusable class per example, and MISLABELLED of the examples given
        another label than their truth (harder ones: ease ** 1.5), which cleanlab is there to find."""
        import numpy as np

        rng = np.random.default_rng(0)
        truth = rng.integers(0, classes, examples)
        other = (truth + rng.integers(1, classes, examples)) % classes
        mislabelled = rng.random(examples) < MISLABELLED
        labels = np.where(mislabelled, other, truth)
        ease = rng.beta(4.0 * DENSE_ACCURACY, 4.0 * (1 - DENSE_ACCURACY), examples)
        ease = np.where(mislabelled, ease**1.5, ease)
        confuser = np.where(mislabelled, (truth + rng.integers(1, classes, examples)) % classes, other)
        return cls(rng, labels, truth, ease, confuser, classes)

    @property
    def n(self) -> int:
        return int(self.labels.shape[0])

    def wrong(self) -> np.ndarray:
        """A class other than the truth for every example: its confuser, or another class at random."""
        import numpy as np

        other = (self.truth + self.rng.integers(1, self.classes, self.n)) % self.classes
        return np.where(self.rng.random(self.n) < CONFUSER_SHARE, self.confuser, other)

    def confidence(self, correct: np.ndarray) -> np.ndarray:
        """Max-softmax in (1/K, 1): high when right, middling when wrong."""
        import numpy as np

        k = self.classes
        u = np.where(correct, self.rng.beta(6.0, 1.5, self.n), self.rng.beta(2.0, 2.5, self.n))
        low = np.nextafter(np.float32(1 / k), np.float32(1))
        return np.clip(1 / k + (1 - 1 / k) * u, low, 1 - 1e-4).astype(np.float32)

    def top5(self, pred: np.ndarray, correct: np.ndarray) -> np.ndarray:
        """Five distinct classes, ``pred`` first; a wrong member has the label among them 60% of the time."""
        import numpy as np

        n, k, width = self.n, self.classes, min(5, self.classes)
        out = np.empty((n, width), dtype=np.int64)
        out[:, 0] = pred
        base = self.rng.integers(1, k - width + 2, n)
        for j in range(1, width):
            out[:, j] = (pred + base + j - 1) % k
        slot = self.rng.integers(1, width, n)
        put = ~correct & (self.rng.random(n) < LABEL_IN_TOP5) & ~(out == self.labels[:, None]).any(axis=1)
        out[put, slot[put]] = self.labels[put]
        return out

    def dense_logits(self) -> np.ndarray:
        """(N, K) float16 logits of a new dense member: Gaussian, the runner-up (the truth when the member
        is wrong, the given label of a mislabelled example) lifted to second place LABEL_IN_TOP5 of the
        time, the predicted class lifted so that its softmax is the drawn confidence and at least
        MIN_MARGIN above every other class."""
        import numpy as np

        n, rows = self.n, np.arange(self.n)
        correct = self.rng.random(n) < self.ease
        pred = np.where(correct, self.truth, self.wrong())
        p = self.confidence(correct).astype(np.float64)
        z = self.rng.standard_normal((n, self.classes), dtype=np.float32)
        second = np.where(self.labels != self.truth, self.labels, self.truth)
        lift = (pred != second) & (self.rng.random(n) < LABEL_IN_TOP5)
        z[rows[lift], second[lift]] = z[lift].max(axis=1) + 0.5 * self.rng.random(int(lift.sum()))
        z[rows, pred] = -np.inf
        others_max = z.max(axis=1)
        others_sum = np.exp(z).sum(axis=1, dtype=np.float64)
        z[rows, pred] = np.maximum(np.log(p / (1 - p) * others_sum), others_max + MIN_MARGIN)
        return z.astype(np.float16)

    def dense_atypicality(self, width: int) -> np.ndarray:
        """(N,) float32 atypicality of a new dense member, measured as the ``atypicality`` stage does
        (``class_normalized_distance``) in a penultimate representation of ``width`` in a space of its
        own (its own class centroids): each example sits near the centroid of the class the member sees
        in it (the truth, so a mislabelled example lies away from its given label's class), the harder
        the example the farther out."""
        import numpy as np

        from pipeline.analysis.atypicality import class_normalized_distance

        centroids = self.rng.standard_normal((self.classes, width), dtype=np.float32) * 2.0
        spread = (1.5 - self.ease).astype(np.float32)[:, None]
        noise = self.rng.standard_normal((self.n, width), dtype=np.float32)
        return class_normalized_distance(centroids[self.truth] + spread * noise, self.labels).astype(
            np.float32
        )

    def columns_of(self, logits: np.ndarray) -> dict[str, np.ndarray]:
        """A table's columns taken from its float16 logits: pred and top5 their best classes, p_pred and
        p_label their softmax."""
        import numpy as np

        from pipeline.io.predictions import TOP_K, as_table

        probs = logits.astype(np.float32)
        probs -= probs.max(axis=1, keepdims=True)
        np.exp(probs, out=probs)
        probs /= probs.sum(axis=1, keepdims=True)
        width, rows = min(TOP_K, self.classes), np.arange(self.n)
        best = np.argpartition(-probs, width - 1, axis=1)[:, :width]
        order = np.argsort(-np.take_along_axis(probs, best, axis=1), axis=1, kind="stable")
        top5 = np.take_along_axis(best, order, axis=1)
        pred = top5[:, 0]
        columns = {"example_id": rows, "label": self.labels, "pred": pred, "top5": top5}
        return as_table(columns | {"p_pred": probs[rows, pred], "p_label": probs[rows, self.labels]})

    def compressed_columns(self, dense: dict[str, np.ndarray], c: int) -> dict[str, np.ndarray]:
        """Config ``c`` keeps a member's dense prediction with probability 1 - 0.02cf; otherwise the member
        predicts anew with an accuracy that falls with c, hard examples the most (ease ** (1 + cf/4)),
        where f is FRAGILE for a mislabelled example (compression forgets those first) and 1 otherwise."""
        import numpy as np

        from pipeline.io.predictions import as_table

        n, damage = self.n, c * np.where(self.labels != self.truth, FRAGILE, 1.0)
        keep = self.rng.random(n) >= 0.02 * damage
        correct = self.rng.random(n) < self.ease ** (1 + 0.25 * damage)
        pred = np.where(correct, self.truth, self.wrong())
        p, hit = self.confidence(correct), pred == self.labels
        p_label = np.where(hit, p, self.rng.random(n) * np.minimum(p, 1 - p))
        new = {"pred": pred, "p_pred": p, "p_label": p_label, "top5": self.top5(pred, hit)}
        mixed = {
            name: np.where(keep[:, None] if v.ndim == 2 else keep, dense[name], v) for name, v in new.items()
        }
        return as_table(dense | mixed)


def hollow(path: Path) -> None:
    """Make the all-zero .npy ``path`` a sparse file with the same bytes (its header, then a hole)."""
    import numpy as np

    size, offset = path.stat().st_size, np.load(path, mmap_mode="r").offset
    with path.open("rb") as handle:
        header = handle.read(offset)
    sparse = path.with_name(path.name + ".sparse")
    with sparse.open("wb") as handle:
        handle.write(header)
        handle.truncate(size)
    os.replace(sparse, path)


def write_prepared(folder: Path, study: Study, image_size: int) -> None:
    """The prepared dataset with the study's test split (fake images) and empty train and val splits."""
    import numpy as np

    from pipeline.data.base import Split
    from pipeline.data.prepare import Prepared, content_sha256
    from pipeline.io.prepared import save_prepared

    side = image_size
    empty = Split(np.zeros((0, 1, side, side), np.uint8), np.zeros(0, np.int64))
    images = study.rng.integers(0, 256, (study.n, 1, side, side), dtype=np.uint8)
    splits = {"train": empty, "val": empty, "test": Split(images, study.labels.astype(np.int64))}
    names = tuple(f"class_{c:04d}" for c in range(study.classes))
    sha256 = content_sha256(splits, names)
    save_prepared(folder, Prepared("bench", names, (), **splits, sha256=sha256, source="bench_analysis"))


def generate(work: Path, shape: Shape) -> None:
    """Prediction tables with their logits and the prepared test split under ``work`` (a child process)."""
    import numpy as np

    from pipeline.io.atypicality import write_atypicality
    from pipeline.io.predictions import PredictFolder, logits_path, write_predictions
    from pipeline.robustness import CLEAN_VIEW

    study = Study.new(shape.examples, shape.classes)
    predict = PredictFolder(work / "predict")
    dense = []
    for seed in range(shape.members):
        logits = study.dense_logits()
        dense.append(study.columns_of(logits))
        write_predictions(predict.config(shape.configs[0]).table(seed, CLEAN_VIEW), dense[-1], logits)
        del logits
    write_atypicality(
        work / "atypicality",
        "fc",
        shape.width,
        {seed: study.dense_atypicality(shape.width) for seed in range(shape.members)},
    )
    zeros = np.zeros((shape.examples, shape.classes), np.float16)
    for c, config in enumerate(shape.configs[1:], start=1):
        for seed in range(shape.members):
            path = predict.config(config).table(seed, CLEAN_VIEW)
            write_predictions(path, study.compressed_columns(dense[seed], c), zeros)
            hollow(logits_path(path))
    write_prepared(work / "prepare", study, shape.image_size)


def write_params(code: Path, path: Path, shape: Shape) -> None:
    """``code``'s params.yaml with the members as seeds and the configs' entries (from that file, or the
    current one for a config it lacks)."""
    params = yaml.safe_load((code / "params.yaml").read_text())
    current = yaml.safe_load((REPO / "params.yaml").read_text())["compress"]["configs"]
    known = current | params["compress"]["configs"]
    params["population"]["seeds"] = list(range(shape.members))
    params["compress"]["configs"] = {name: known[name] for name in shape.configs}
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def in_child(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a fresh process (its memory never counts towards a stage's peak)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def matmul_rate() -> float:
    from bench_predict import matmul_flops_per_second  # the reference rate every benchmark prints

    return matmul_flops_per_second()


# ------------------------------------------------------------------------------------------------- disk


def disk_estimate(shape: Shape, codes: int) -> tuple[float, float]:
    """(bytes on disk, apparent bytes) of the generated study and ``codes`` stages' outputs."""
    n, k, m = shape.examples, shape.classes, shape.members
    logits = n * k * 2 + NPY_HEADER
    compressed = m * (len(shape.configs) - 1)
    atypicality = m * (n * 4 + NPY_HEADER)
    data = m * logits + atypicality + shape.rows * TABLE_ROW_BYTES + n * (shape.image_size**2 + 8)
    # per code: float64 (K, K) confusion matrices (mean and diff per config), ~2.5 KB of gallery and CSV
    # per PIE at up to 4% PIEs per config
    outputs = codes * (2 * len(shape.configs) * k * k * 8 + n * len(shape.configs) * 100)
    return data + outputs + compressed * BLOCK, data + outputs + compressed * logits


def human(size: float) -> str:
    return f"{size / GB:.2f} GB" if size >= GB / 10 else f"{size / 1e6:.1f} MB"


def disk_used(folder: Path) -> tuple[float, float]:
    """(bytes on disk, apparent bytes) of every file under ``folder``."""
    blocks = apparent = 0
    for root, _, files in os.walk(folder):
        for name in files:
            st = os.lstat(os.path.join(root, name))
            blocks, apparent = blocks + st.st_blocks * 512, apparent + st.st_size
    return blocks, apparent


def check_disk(work: Path, shape: Shape, codes: int) -> None:
    on_disk, apparent = disk_estimate(shape, codes)
    free = shutil.disk_usage(work).free
    print(
        f"disk: about {human(on_disk)} (apparent {human(apparent)}: the compressed configs' "
        f"logits are sparse files); {human(free)} free"
    )
    if on_disk > free:
        sys.exit("not enough disk: lower --classes or --members (the dense logits are M x N x K x 2 bytes)")


# -------------------------------------------------------------------------------------------- measuring


@contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """A detached git worktree of this repository at ``rev`` in a temporary folder, removed afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="bench_analysis_baseline_"))
    tree = parent / "tree"
    git = ["git", "-C", str(REPO), "worktree"]
    made = subprocess.run([*git, "add", "--detach", str(tree), rev], capture_output=True, text=True)
    if made.returncode != 0:
        shutil.rmtree(parent, ignore_errors=True)
        sys.exit(f"git worktree add {rev} failed: {made.stderr.strip()}")
    head = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    print(f"baseline: {rev} = {head.stdout.strip()}, a worktree in {tree}")
    try:
        yield tree
    finally:
        subprocess.run([*git, "remove", "--force", str(tree)], capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)


def environment(root: Path) -> dict[str, str]:
    """The environment of a child that must import ``root``'s own ``pipeline`` package."""
    path = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)
    return os.environ | {"PYTHONPATH": path}


def check_imports(code: Code) -> None:
    """Exit unless a child run as the stages are imports ``pipeline`` from ``code.root``."""
    command = [sys.executable, "-c", "import pipeline; print(pipeline.__file__)"]
    found = subprocess.run(command, cwd=code.root, env=environment(code.root), capture_output=True, text=True)
    where = Path(found.stdout.strip() or "?").resolve()
    if not where.is_relative_to(code.root.resolve()):
        sys.exit(f"{code.label}: the stages would import pipeline from {where}, not {code.root}")


def run_stage(name: str, code: Code, work: Path) -> StageRun:
    """Run one stage of ``code`` as a child process; its wall time and its own peak resident memory."""
    command = [sys.executable, "-m", f"pipeline.stages.{name}", "--params", str(code.params)]
    command += ["--prepare", str(work / "prepare"), "--predict", str(work / "predict")]
    if name == "traits":
        command += ["--atypicality", str(work / "atypicality")]
    if name == "pie" and has_stage(code, "traits"):  # the pie stage reads what traits wrote
        command += ["--traits", str(code.out / "traits")]
    command += ["--out", str(code.out / name)]
    with tempfile.TemporaryFile(mode="w+") as log:  # a file, not a pipe: a full pipe would block the child
        start = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=code.root, env=environment(code.root), stdout=log, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    if child.returncode != 0:
        print(f"{code.label} {name} failed with exit code {child.returncode}:\n{output}", file=sys.stderr)
        sys.exit(1)
    return StageRun(name, seconds, usage.ru_maxrss / 1024, output)  # ru_maxrss: kilobytes on Linux


def has_stage(code: Code, name: str) -> bool:
    return (code.root / "pipeline" / "stages" / f"{name}.py").is_file()


def measure(codes: list[Code], work: Path, repeats: int) -> dict[str, list[StageRun]]:
    """Per code label, each stage's best run of ``repeats`` (least time, highest peak); codes alternate.
    A stage the code does not have (traits before issue 17) is not run for it."""
    runs: dict[tuple[str, str], list[StageRun]] = {}
    for _ in range(repeats):
        for name in STAGES:
            for code in (code for code in codes if has_stage(code, name)):
                runs.setdefault((code.label, name), []).append(run_stage(name, code, work))
    best: dict[str, list[StageRun]] = {}
    for (label, name), tries in runs.items():
        fastest = min(tries, key=lambda run: run.seconds)
        peak = max(run.peak_mb for run in tries)
        best.setdefault(label, []).append(StageRun(name, fastest.seconds, peak, fastest.output))
    return best


# ------------------------------------------------------------------------------------------------ main


def parse_args() -> argparse.Namespace:
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
        "--feature-width", type=int, default=512, help="the dense members' penultimate width (default 512)"
    )
    p.add_argument("--baseline", metavar="REV", help="also run the stages of this git revision, same data")
    p.add_argument("--repeats", type=int, default=1, help="runs per stage and code; the fastest counts")
    p.add_argument(
        "--workdir", type=Path, default=None, help="working folder (default: a fresh temporary one)"
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary working folder")
    p.add_argument("--image-size", type=int, default=16, help="side of the fake test images (default 16)")
    p.add_argument("--limit-seconds", type=float, default=60.0, help="wall-time limit of the stages together")
    p.add_argument("--limit-gb", type=float, default=4.0, help="peak-memory limit of each stage (GiB)")
    p.add_argument("--verbose", action="store_true", help="print the stages' own log lines")
    args = p.parse_args()
    if not 2 <= args.configs <= len(COMPRESSED) + 1:
        p.error(f"--configs must be 2 to {len(COMPRESSED) + 1}")
    if args.baseline is not None and args.baseline.startswith("-"):
        p.error("--baseline: a revision, not an option")
    if (
        args.classes < 6
        or args.examples < 1
        or args.members < 1
        or args.repeats < 1
        or args.feature_width < 1
    ):
        p.error("need at least 6 classes, 1 example, 1 member, 1 repeat and a feature width of 1")
    return args


def main() -> int:
    args = parse_args()
    names = ("dense", *COMPRESSED[: args.configs - 1])
    shape = Shape(args.examples, args.members, args.classes, args.image_size, names, args.feature_width)
    temporary = args.workdir is None
    work = Path(tempfile.mkdtemp(prefix="bench_analysis_")) if temporary else args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"{shape.examples:,} examples x {shape.members} members x {len(names)} configs = "
        f"{shape.rows:,} prediction rows, {shape.classes:,} classes; {os.cpu_count()} CPUs; in {work}"
    )
    try:
        check_disk(work, shape, 2 if args.baseline else 1)
        codes = [Code("current", REPO, work / "params.yaml", work / "current")]
        if args.baseline is None:
            return run(args, shape, work, codes)
        with worktree(args.baseline) as tree:
            codes.append(
                Code(f"baseline {args.baseline}", tree, work / "params.baseline.yaml", work / "baseline")
            )
            return run(args, shape, work, codes)
    finally:
        if temporary and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            print(f"kept {work}")


def run(args: argparse.Namespace, shape: Shape, work: Path, codes: list[Code]) -> int:
    """Generate, measure every code's stages between two matmul-rate readings, report; the exit status."""
    for code in codes:
        write_params(code.root, code.params, shape)
        check_imports(code)
    print(f"matmul rate before: {in_child(matmul_rate) / 1e9:.1f} GFLOP/s", flush=True)
    start = time.perf_counter()
    in_child(generate, work, shape)
    on_disk, apparent = disk_used(work)
    print(
        f"generation: {time.perf_counter() - start:.1f} s (not measured); {human(on_disk)} on disk, "
        f"{human(apparent)} apparent",
        flush=True,
    )
    runs = measure(codes, work, args.repeats)
    print(f"matmul rate after: {in_child(matmul_rate) / 1e9:.1f} GFLOP/s")
    if args.verbose:
        for label, stage_runs in runs.items():
            for stage_run in stage_runs:
                print(f"--- {label} {stage_run.name} log\n{stage_run.output.rstrip()}")
    realism(codes[0].out)
    if len(codes) > 1:
        compare(runs[codes[0].label], runs[codes[1].label], codes[1].label)
    return verdict(runs[codes[0].label], args.limit_seconds, args.limit_gb)


def realism(out: Path) -> None:
    """The data's realism as the current code sees it: top-1, drop, churn, PIE fraction, label issues."""
    stats = json.loads((out / "stats" / "summary.json").read_text())["configs"]
    pies = json.loads((out / "pie" / "summary.json").read_text())["configs"]
    head = f"{'config':<26} {'top-1':>7} {'drop':>8} {'churn':>7} {'PIEs':>7} {'PIE fraction':>13}"
    print(f"{head} {'issues x':>9}")
    for name, s in stats.items():
        pie = pies.get(name)
        cells = f"{'-':>7} {'-':>13} {'-':>9}"
        if pie:
            enrichment = pie.get("label_issue_enrichment")
            shown = f"{enrichment:>9.2f}" if isinstance(enrichment, int | float) else f"{'-':>9}"
            cells = f"{pie['pies']:>7} {pie['pie_fraction']:>13.4f} {shown}"
        print(f"{name:<26} {s['top1']:>7.4f} {s['top1_drop']:>+8.4f} {s['churn']:>7.4f} {cells}")
    print("(issues x: how much likelier a PIE is a label issue than the rest, cleanlab on the dense logits)")


def compare(current: list[StageRun], baseline: list[StageRun], label: str) -> None:
    """Per stage, the stages rerun for every config (stats and pie) and all of them: current against
    baseline wall time and peak, and the added share (a stage the baseline lacks adds all of its time)."""
    print(f"current code against {label}:")
    print(f"{'stage':<16} {'current':>21} {'baseline':>21} {'added time':>11} {'added peak':>11}")
    base = {run.name: run for run in baseline}
    rows = [
        (
            a.name,
            a.seconds,
            a.peak_mb,
            base[a.name].seconds if a.name in base else 0.0,
            base[a.name].peak_mb if a.name in base else 0.0,
        )
        for a in current
    ]

    def total(
        name: str, chosen: list[tuple[str, float, float, float, float]]
    ) -> tuple[str, float, float, float, float]:
        return (
            name,
            sum(r[1] for r in chosen),
            max(r[2] for r in chosen),
            sum(r[3] for r in chosen),
            max(r[4] for r in chosen),
        )

    recurring = total("stats + pie", [r for r in rows if r[0] in RECURRING])
    every = total("all stages", rows)
    for name, seconds, peak, base_seconds, base_peak in [*rows, recurring, every]:
        added = f"{seconds / base_seconds - 1:>+11.1%}" if base_seconds else f"{'(new)':>11}"
        added_peak = f"{peak / base_peak - 1:>+11.1%}" if base_peak else f"{'(new)':>11}"
        base_cells = f"{base_seconds:>9.1f} s {base_peak:>6.0f} MB" if base_seconds else f"{'-':>21}"
        print(f"{name:<16} {seconds:>9.1f} s {peak:>6.0f} MB {base_cells} {added} {added_peak}")
    for name, seconds, _, base_seconds, _ in (recurring, every):
        added = seconds / base_seconds - 1
        within = "within" if added <= ISSUE_17_SHARE else "over"
        print(f"issue 17, {name}: the current code adds {added:+.1%}, {within} {ISSUE_17_SHARE:.0%}")


def verdict(runs: list[StageRun], limit_s: float, limit_gb: float) -> int:
    """The current code's figures against the limits; the exit status."""
    for stage_run in runs:
        print(f"{stage_run.name}: {stage_run.seconds:.1f} s, peak {stage_run.peak_mb:.0f} MB")
    total = sum(stage_run.seconds for stage_run in runs)
    peak = max(stage_run.peak_mb for stage_run in runs)
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
