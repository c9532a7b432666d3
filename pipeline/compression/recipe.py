"""Applying one compression config to one dense member: prune (and fine-tune), then quantize.

Each step records what it achieved (sparsity per tensor and overall, bit widths, storage size) in the
metadata that goes into the compressed checkpoint.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn

from pipeline.compression import pruning, size
from pipeline.compression.finetune import finetune, finetune_steps
from pipeline.config import CompressionConfig, PruneSpec, QuantSpec, TrainParams
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
) -> dict[str, Any]:
    """Prune ``model`` in place by ``spec``'s schedule; returns the sparsity report of its masks.
    ``resume``: where fine-tuning continues from and keeps its state (:func:`finetune`)."""
    generator = torch.Generator().manual_seed(seed)
    steps = finetune_steps(spec, int(data.train_labels.shape[0]), train_cfg.batch_size)
    hook = pruning.start_pruning(model, spec, steps, generator)  # prunes now (gradual: to the initial level)
    if spec.schedule != "oneshot":
        finetune(model, data, train_cfg, spec, seed, hook, resume)
    return dict(pruning.sparsity_report(model, list(hook.masks)))


def calibration_images(images: torch.Tensor, spec: QuantSpec) -> torch.Tensor:
    """A seeded sample of ``spec.calibration_size`` training images, as floats in [0, 1] (N, C, H, W)."""
    generator = torch.Generator().manual_seed(spec.calibration_seed)
    index = torch.randperm(images.shape[0], generator=generator)[: spec.calibration_size]
    return images[index.sort().values].float() / 255.0


def storage(model: nn.Module, sparse: set[str], bits: dict[str, int], dense: int) -> dict[str, Any]:
    """Bytes under the config's format against ``dense``, the dense member's float32 bytes."""
    compressed = size.model_size_bytes(model.state_dict(), bits, sparse)
    return {"size_bytes": compressed, "dense_size_bytes": dense, "size_ratio": compressed / dense}


def compress_member(
    model: nn.Module,
    cfg: CompressionConfig,
    data: TrainData,
    train_cfg: TrainParams,
    seed: int,
    resume: Resume | None = None,
) -> tuple[nn.Module, dict[str, Any]]:
    """The compressed member (eval mode) and what the compression achieved (``resume``: see
    :func:`prune_member`)."""
    report: dict[str, Any] = {}
    dense_bytes = size.dense_size_bytes(model.state_dict())
    sparse: set[str] = set()
    if cfg.prune is not None:
        report["sparsity"] = prune_member(model, cfg.prune, data, train_cfg, seed, resume)
        sparse = set(report["sparsity"]) - {"overall"}
    model.eval()
    bits: dict[str, int] = {}
    if cfg.quantize is not None:
        from pipeline.compression import quantization

        calibration = calibration_images(data.train_images, cfg.quantize)
        model = quantization.quantize(model, calibration, cfg.quantize).eval()
        layers = quantization.quantized_layers(model)
        bits = {name: info.weight_bits for name, info in layers.items()}
        report["bits"] = {name: [info.weight_bits, info.activation_bits] for name, info in layers.items()}
    # quantized layers keep their parameter names, so the pruned tensors' names still apply here
    report |= storage(model, sparse, bits, dense_bytes)
    return model, report
