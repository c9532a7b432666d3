"""Making one cell (the ``compress`` stage's work): a compression config applied to one member, its
fine-tuning resumable after a kill, and the cell's checkpoint metadata."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from pipeline.compression.load import load_model
from pipeline.compression.recipe import compress_member
from pipeline.config import DENSE, CompressionConfig, ConfigError, Params, to_dict
from pipeline.data.prepare import Prepared
from pipeline.errors import InputCorrupt
from pipeline.io.checkpoints import CheckpointMeta
from pipeline.io.files import file_sha256
from pipeline.io.resume import ResumeFile, inputs_key
from pipeline.numbers import fmt
from pipeline.training.loop import TrainData
from pipeline.training.resume import resume_with

log = logging.getLogger("pipeline.compress")


@dataclass(frozen=True)
class Cell:
    """A compressed member as the stage writes it: CPU state dict (contiguous) and metadata."""

    state: dict[str, torch.Tensor]
    meta: CheckpointMeta


def check_against_data(cfg: CompressionConfig, name: str, n_train: int) -> None:
    """Rules that need the dataset's size, checked before any work."""
    if cfg.quantize is not None and cfg.quantize.calibration_size > n_train:
        raise ConfigError(
            f"compress.configs.{name}.quantize.calibration_size: {cfg.quantize.calibration_size} is larger "
            f"than the training split ({n_train} images)"
        )


def resume_inputs(
    config: str, seed: int, cfg: CompressionConfig, params: Params, member: Path, dataset_sha256: str
) -> dict[str, Any]:
    """Everything a cell's fine-tuning depends on besides the code (:func:`pipeline.io.resume.inputs_key`
    adds the library versions and the loaded sources): the config, the seed, the member's bytes, the
    training recipe and the data."""
    return {
        "stage": "compress",
        "config": config,
        "seed": seed,
        "compression": to_dict(cfg),
        "params": {name: to_dict(getattr(params, name)) for name in ("train", "runtime")},
        "dense_sha256": file_sha256(member),
        "dataset_sha256": dataset_sha256,
    }


def done_line(meta: CheckpointMeta, seconds: float) -> str:
    config = meta.cell.config if meta.cell is not None else DENSE
    return (
        f"{config} seed {meta.seed}: sparsity {fmt(meta.overall_sparsity)}, "
        f"size ratio {fmt(meta.size_ratio)}, {fmt(seconds, 1)} s"
    )


def compress_seed(
    params: Params, config: str, seed: int, data: Prepared, member: Path, out: Path
) -> tuple[Cell, ResumeFile]:
    """The cell of ``config`` made from the member checkpointed at ``member``, and the resume state of its
    fine-tuning (kept in the scratch area beside ``out``): remove that once the cell is written."""
    from pipeline.config import config_of

    cfg = config_of(params, config)
    start = time.perf_counter()
    model, member_meta = load_model(member)
    if member_meta.kind != "member" or member_meta.seed != seed:
        found = f"the {member_meta.kind} of seed {member_meta.seed}"
        raise InputCorrupt(f"{member}: {found}, not the member of seed {seed}; rerun `dvc repro train`")
    train_data = TrainData.from_prepared(data)
    store = ResumeFile(out, inputs_key(resume_inputs(config, seed, cfg, params, member, data.sha256)))
    resume = resume_with(store.load(), store.save)
    if resume.start is not None and cfg.prune is not None:
        at = f"{config} seed {seed}: resuming fine-tuning from epoch {resume.start.epoch}"
        log.info(f"{at}/{fmt(cfg.prune.finetune_epochs)} (state {store.path})")
    model, report = compress_member(model, cfg, train_data, params.train, seed, resume)
    meta = member_meta.to_cell(config, cfg, report)
    model = model.to(memory_format=torch.contiguous_format)
    log.info(done_line(meta, time.perf_counter() - start))
    return Cell(model.state_dict(), meta), store
