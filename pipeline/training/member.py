"""Training one member end to end (the ``train`` stage's work): check the recipe against the data, build
and train the network from its seed, resuming from the last completed epoch after a kill, evaluate it on
the test split, and return what the stage writes (checkpoint metadata, history, metrics)."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pipeline.config import ConfigError, Params, TrainParams, to_dict
from pipeline.data.prepare import Prepared
from pipeline.io.checkpoints import CheckpointMeta
from pipeline.io.resume import ResumeFile, inputs_key
from pipeline.numbers import fmt
from pipeline.training.loop import EpochRecord, TrainData, evaluate, train_member
from pipeline.training.resume import resume_with

log = logging.getLogger("pipeline.train")

SECTIONS = ("prepare", "model", "train", "runtime")  # the params sections training reads


@dataclass(frozen=True)
class TrainedMember:
    """A trained member as the stage writes it: CPU state dict, metadata, history rows and metrics."""

    state: dict[str, torch.Tensor]
    meta: CheckpointMeta
    history: list[dict[str, Any]]  # one row per epoch, without timings (outputs are byte-identical)
    metrics: dict[str, Any]  # seed, test top-1, validation top-1


def check_batch_size(cfg: TrainParams, n_train: int) -> None:
    """A batch larger than the split would silently hold the whole split."""
    if cfg.batch_size > n_train:
        raise ConfigError(f"train.batch_size: {cfg.batch_size} is more than the {n_train} training images")


def resume_inputs(params: Params, seed: int, dataset_sha256: str) -> dict[str, Any]:
    """Everything a member's training depends on besides the code (:func:`pipeline.io.resume.inputs_key`
    adds the library versions and the loaded sources): the params sections it reads, seed and data."""
    sections = {name: to_dict(getattr(params, name)) for name in SECTIONS}
    return {"stage": "train", "seed": seed, "params": sections, "dataset_sha256": dataset_sha256}


def history_row(record: EpochRecord) -> dict[str, Any]:
    """A history row without the timing (which differs from run to run)."""
    row = asdict(record)
    row.pop("images_per_second")
    return row


def start_line(params: Params, seed: int, data: Prepared, device: torch.device) -> str:
    sizes = f"{len(data.train)} train / {len(data.val)} val images"
    return (
        f"seed {seed}: {params.model.arch} on {data.name} ({sizes}), {params.train.epochs} epochs on "
        f"{device}, {torch.get_num_threads()} threads"
    )


def end_line(seed: int, test_acc: float, seconds: float, history: list[EpochRecord]) -> str:
    rate = sum(r.images_per_second for r in history) / len(history)
    return (
        f"seed {seed}: test top-1 {fmt(test_acc)}; {fmt(seconds, 0)} s in all, {fmt(rate, 0)} training img/s"
    )


def train_seed(
    params: Params, seed: int, data: Prepared, device: torch.device, checkpoint: Path
) -> tuple[TrainedMember, ResumeFile]:
    """The member of ``seed`` trained on ``data``, and its resume state (kept in the scratch area beside
    ``checkpoint`` after every epoch): remove that once the member is written."""
    from pipeline.models.member import new_member

    check_batch_size(params.train, len(data.train))
    train_data = TrainData.from_prepared(data)
    torch.manual_seed(seed)
    model: nn.Module = new_member(
        params.model.arch, data.image_shape, data.num_classes, train_data.train_images
    )
    model = model.to(device)
    log.info(start_line(params, seed, data, device))
    start = time.perf_counter()
    store = ResumeFile(checkpoint, inputs_key(resume_inputs(params, seed, data.sha256)))  # modules loaded
    resume = resume_with(store.load(), store.save)
    if resume.start is not None:
        at = f"{resume.start.epoch}/{params.train.epochs}"
        log.info(f"seed {seed}: resuming from epoch {at} (state {store.path})")

    def report(r: EpochRecord) -> None:
        log.info(f"seed {seed} epoch {r.epoch}/{params.train.epochs}: {r.summary()}")

    history = train_member(model, train_data, params.train, seed, report, resume)
    test = torch.from_numpy(data.test.images), torch.from_numpy(data.test.labels)
    _, test_acc = evaluate(model, *test, params.train.eval_batch_size)
    log.info(end_line(seed, test_acc, time.perf_counter() - start, history))
    model = model.to("cpu").to(memory_format=torch.contiguous_format)
    meta = CheckpointMeta.member(params, seed, data, history[-1].val_acc)
    metrics = {"seed": seed, "top1": test_acc, "val_top1": history[-1].val_acc}
    return TrainedMember(model.state_dict(), meta, [history_row(r) for r in history], metrics), store
