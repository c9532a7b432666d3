"""``kill -9`` at a random moment of a stage: nothing left that DVC or the next run trips over, and a
killed ``train@seed`` resumes from its last completed epoch to byte-identical outputs.

Each test runs the real stage entry points as subprocesses in a folder laid out like the project (a
``.dvc`` folder at its root, so the scratch area is ``<root>/.scratch``), on the tiny synthetic study made
larger so that epochs and writes last long enough to be interrupted. Kill moments come from a seeded
``random.Random``.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipeline.config import CompressionConfig, Params, PruneSpec, SyntheticParams, to_dict
from pipeline.data.prepare import prepare
from pipeline.data.synthetic import generate
from pipeline.io.prepared import save_prepared

from ..conftest import REPO, tiny_params

ENV = os.environ | {"PYTHONPATH": str(REPO)}
TRAIN = ["--seed", "0", "--prepare", "data/prepare", "--out", "data/train", "--history", "reports/training"]
PREPARE = ["--raw", "data/raw", "--out", "data/prepare"]
COMPRESS = [
    *("--config", "gradual", "--seed", "0", "--prepare", "data/prepare"),
    *("--train", "data/train", "--out", "data/compress"),
]


def study_params(train_size: int, epochs: int = 4, lr: float = 0.1) -> Params:
    params = tiny_params()
    data = dataclasses.replace(params.prepare, synthetic=SyntheticParams(train_size=train_size))
    return dataclasses.replace(
        params, prepare=data, train=dataclasses.replace(params.train, epochs=epochs, lr=lr)
    )


def make_study(root: Path, params: Params, prepared: bool = True) -> Path:
    (root / ".dvc").mkdir(parents=True)
    write_params(root, params)
    if prepared:
        cfg = params.prepare
        save_prepared(
            root / "data" / "prepare", prepare(generate(cfg.synthetic), cfg.val_fraction, cfg.split_seed)
        )
    return root


def write_params(root: Path, params: Params) -> None:
    (root / "params.yaml").write_text(yaml.safe_dump(to_dict(params), sort_keys=False))


def start(root: Path, stage: str, args: list[str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", f"pipeline.stages.{stage}", "--params", "params.yaml", *args]
    return subprocess.Popen(
        command, cwd=root, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def wait_for(process: subprocess.Popen[str], text: str) -> None:
    """Read the stage's log until a line holds ``text`` (logging flushes each line)."""
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if text in line:
            return
    pytest.fail(f"the stage ended before logging {text!r}:\n{''.join(lines)}")


def kill(process: subprocess.Popen[str]) -> bool:
    """SIGKILL the stage; False if it had already ended (then it must have succeeded)."""
    running = process.poll() is None
    process.kill()
    assert process.stderr is not None
    process.stderr.read()
    process.wait()
    assert running or process.returncode == 0
    return running


def finish(process: subprocess.Popen[str]) -> str:
    """The rest of the stage's log, once it has succeeded."""
    assert process.stderr is not None
    log = process.stderr.read()
    assert process.wait() == 0, log
    return log


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def train_outputs(root: Path) -> dict[str, bytes]:
    return files(root / "data" / "train") | files(root / "reports")


def remove_outputs(root: Path) -> None:
    """What ``dvc repro`` does before it runs the stage again."""
    shutil.rmtree(root / "data" / "train", ignore_errors=True)
    shutil.rmtree(root / "reports", ignore_errors=True)


def assert_no_debris_beside_train_outputs(root: Path) -> None:
    assert set(os.listdir(root / "data")) <= {"prepare", "train"}
    if (root / "data" / "train").exists():
        assert set(os.listdir(root / "data" / "train" / "seed_0")) <= {"model.safetensors", "metrics.json"}
    if (root / "reports").exists():
        assert set(os.listdir(root / "reports" / "training")) <= {"seed_0.csv"}


def test_a_killed_train_resumes_from_its_last_epoch_to_byte_identical_outputs(tmp_path: Path) -> None:
    root = make_study(tmp_path / "study", study_params(train_size=4096))
    rng = random.Random(20240512)
    reference = start(root, "train", TRAIN)
    wait_for(reference, "epoch 1/4")
    begin = time.monotonic()
    wait_for(reference, "epoch 2/4")
    epoch = time.monotonic() - begin  # one epoch's wall time on this machine
    finish(reference)
    expected = train_outputs(root)
    remove_outputs(root)

    first = start(root, "train", TRAIN)
    wait_for(first, "epoch 1/4")  # logged once the epoch's state is saved
    time.sleep(rng.uniform(0, epoch))
    killed = kill(first)
    assert_no_debris_beside_train_outputs(root)
    if killed:  # killed again while it resumes: the state it last saved is still there
        second = start(root, "train", TRAIN)
        wait_for(second, "resuming from epoch")
        time.sleep(rng.uniform(0, epoch / 2))
        killed = kill(second)
        assert_no_debris_beside_train_outputs(root)
    remove_outputs(root)
    log = finish(start(root, "train", TRAIN))
    if killed:
        resumed = re.search(r"seed 0: resuming from epoch ([1-3])/4 \(state (.+)\)", log)
        assert resumed, log
        assert Path(resumed[2]).parent == root / ".scratch" / "resume"
    assert train_outputs(root) == expected
    assert not (root / ".scratch").exists()  # state removed on success, dead temporaries cleaned


def test_a_changed_param_never_resumes_stale_state(tmp_path: Path) -> None:
    root = make_study(tmp_path / "study", study_params(train_size=2048))
    process = start(root, "train", TRAIN)
    wait_for(process, "epoch 1/4")
    assert kill(process)
    (stale,) = (root / ".scratch" / "resume").iterdir()
    write_params(root, study_params(train_size=2048, lr=0.05))
    log = finish(start(root, "train", TRAIN))
    assert "resuming" not in log and "epoch 1/4" in log
    assert not stale.exists() and not (root / ".scratch").exists()


def test_a_killed_prepare_leaves_the_previous_dataset_or_none_and_reruns_identically(tmp_path: Path) -> None:
    root = make_study(tmp_path / "study", study_params(train_size=40_000), prepared=False)
    rng = random.Random(7)
    out = root / "data" / "prepare"

    def run_until_it_writes() -> tuple[subprocess.Popen[str], float]:
        """Start prepare; return it once its folder is being built in the scratch area."""
        process = start(root, "prepare", PREPARE)
        while process.poll() is None and not list(
            (root / ".scratch").glob(f"prepare.*-{process.pid}.*.part")
        ):
            time.sleep(0.001)
        return process, time.monotonic()

    process, began = run_until_it_writes()
    finish(process)
    writing = time.monotonic() - began  # from the first temporary to the stage's end
    expected = files(out)
    shutil.rmtree(out)  # the first trial has no previous outputs, the others the same dataset's
    for _ in range(4):
        process, _ = run_until_it_writes()
        time.sleep(rng.uniform(0, writing))
        kill(process)
        assert set(os.listdir(root / "data")) <= {"prepare", "raw"}  # nothing beside the output
        assert not out.exists() or files(out) == expected  # never a partial folder
        for name, data in expected.items():  # the previous outputs of the next trial
            out.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)
    finish(start(root, "prepare", PREPARE))
    assert files(out) == expected
    assert not (root / ".scratch").exists()


def test_a_killed_fine_tuning_resumes_to_a_byte_identical_member(tmp_path: Path) -> None:
    params = study_params(train_size=4096, epochs=1)
    spec = PruneSpec(sparsity=0.5, method="random", schedule="gradual", finetune_epochs=3.5, frequency=10)
    configs = {**params.compress.configs, "gradual": CompressionConfig(prune=spec)}
    params = dataclasses.replace(params, compress=dataclasses.replace(params.compress, configs=configs))
    root = make_study(tmp_path / "study", params)
    finish(start(root, "train", TRAIN))
    finish(start(root, "compress", COMPRESS))
    out = root / "data" / "compress"
    expected = files(out)
    shutil.rmtree(out)

    process = start(root, "compress", COMPRESS)
    while process.poll() is None and not list(root.glob(".scratch/resume/*.safetensors")):
        time.sleep(0.001)  # the state of the first fine-tuning epoch is saved
    time.sleep(random.Random(3).uniform(0, 0.5))  # a fine-tuning epoch: about 0.25 s
    killed = kill(process)
    log = finish(start(root, "compress", COMPRESS))
    if killed:
        assert re.search(r"gradual seed 0: resuming fine-tuning from epoch [1-3]/3\.5000 \(state ", log), log
    assert files(out) == expected
    assert not (root / ".scratch").exists()
