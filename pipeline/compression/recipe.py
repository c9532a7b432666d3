"""Applying one compression config to one dense member: prune (and fine-tune), then quantize.

Each step records what it achieved (sparsity per tensor and overall, bit widths, storage size) in a
:class:`~pipeline.compression.report.CompressionReport`, which the cell's checkpoint keeps.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from pipeline.compression import pruning, size
from pipeline.compression.finetune import finetune, finetune_steps
from pipeline.compression.report import CompressionReport, LayerBits, SparsityReport
from pipeline.config import CompressionConfig, PruneSpec, QuantSpec, TrainParams
from pipeline.pixels import to_unit
from pipeline.training.loop import TrainData
from pipeline.training.resume import Resume

log = logging.getLogger("pipeline.compress")


def prune_member(
    model: nn.Module,
    spec: PruneSpec,
    data: TrainData,
    train_cfg: TrainParams,
    seed: int,
    resume: Resume | None = None,
) -> SparsityReport:
    """Prune ``model`` in place by ``spec``'s schedule; returns the sparsity report of its masks.
    ``resume``: where fine-tuning continues from and keeps its state (:func:`finetune`)."""
    generator = torch.Generator().manual_seed(seed)
    steps = finetune_steps(spec, int(data.train_labels.shape[0]), train_cfg.batch_size)
    hook = pruning.start_pruning(model, spec, steps, generator)  # prunes now (gradual: to the initial level)
    if spec.schedule != "oneshot":
        finetune(model, data, train_cfg, spec, seed, hook, resume)
    return pruning.sparsity_report(model, list(hook.masks))


def calibration_images(images: torch.Tensor, spec: QuantSpec) -> torch.Tensor:
    """A seeded sample of ``spec.calibration_size`` training images, as floats in [0, 1] (N, C, H, W)."""
    generator = torch.Generator().manual_seed(spec.calibration_seed)
    index = torch.randperm(images.shape[0], generator=generator)[: spec.calibration_size]
    return to_unit(images[index.sort().values])


def compress_member(
    model: nn.Module,
    cfg: CompressionConfig,
    data: TrainData,
    train_cfg: TrainParams,
    seed: int,
    resume: Resume | None = None,
) -> tuple[nn.Module, CompressionReport]:
    """The cell (eval mode) of ``cfg`` applied to the member ``model``, and what the compression achieved
    (``resume``: see :func:`prune_member`)."""
    dense_bytes = size.dense_size_bytes(model.state_dict())
    sparsity = None if cfg.prune is None else prune_member(model, cfg.prune, data, train_cfg, seed, resume)
    model.eval()
    bits: dict[str, LayerBits] | None = None
    if cfg.quantize is not None:
        from pipeline.compression import quantization

        calibration = calibration_images(data.train_images, cfg.quantize)
        model = quantization.quantize(model, calibration, cfg.quantize).eval()
        bits = quantization.quantized_layers(model)
    # quantized layers keep their parameter names, so the pruned tensors' names still apply here
    sparse = set() if sparsity is None else set(sparsity.tensors)
    weight_bits = {name: b.weight_bits for name, b in (bits or {}).items()}
    compressed = size.model_size_bytes(model.state_dict(), weight_bits, sparse)
    return model, CompressionReport(sparsity, bits, compressed, dense_bytes)
