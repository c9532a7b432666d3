"""Loading any checkpoint, member or cell, back into a model.

A cell records its recipe in its metadata; the quantized structure (folded BatchNorm, activation
quantizers) is rebuilt from that recipe before the weights are loaded, so a checkpoint never carries code.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from pipeline.errors import InputCorrupt
from pipeline.io.checkpoints import CheckpointMeta, load_checkpoint
from pipeline.models.member import Member
from pipeline.models.registry import build_model


def empty_model(meta: CheckpointMeta) -> Member:
    """A network of the checkpoint's architecture and shapes, a member's or a cell's (no weights yet)."""
    c, h, _ = meta.image_shape
    return Member(build_model(meta.arch, c, meta.num_classes, h), torch.zeros(c), torch.ones(c))


def load_model(path: Path) -> tuple[nn.Module, CheckpointMeta]:
    """(model in eval mode, metadata) of a member's or a cell's checkpoint."""
    state, meta = load_checkpoint(path)  # digest checked: tensors and metadata are as saved
    try:
        model: nn.Module = empty_model(meta)
    except (KeyError, TypeError, ValueError) as err:  # ConfigError is a ValueError
        raise InputCorrupt(
            f"{path}: its metadata does not describe a model this version builds [{err}]"
        ) from None
    if meta.quant_spec is not None:
        from pipeline.compression.quantization import prepare_structure

        model = prepare_structure(model, meta.quant_spec)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        detail = " ".join(str(err).split())[:300]  # torch's message spans lines, one per key
        raise InputCorrupt(f"{path}: its tensors do not fit the architecture it records [{detail}]") from None
    return model.eval(), meta
