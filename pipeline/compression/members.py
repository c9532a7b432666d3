"""Loading members back from their checkpoints, dense or compressed.

A compressed checkpoint records its recipe in the metadata; the quantized structure (folded BatchNorm,
activation quantizers) is rebuilt from that recipe before the weights are loaded, so a checkpoint never
carries code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from pipeline.config import QuantSpec, build
from pipeline.errors import InputCorrupt
from pipeline.io.checkpoints import load_checkpoint
from pipeline.models.member import Member
from pipeline.models.registry import build_model


def empty_member(meta: dict[str, Any]) -> Member:
    """A member with the checkpoint's architecture and shapes (weights to be loaded)."""
    c, h, _ = meta["image_shape"]
    return Member(build_model(meta["arch"], c, meta["num_classes"], h), torch.zeros(c), torch.ones(c))


def quant_spec(meta: dict[str, Any]) -> QuantSpec | None:
    """The checkpoint's quantization recipe, validated like params."""
    raw = (meta.get("compression") or {}).get("quantize")
    return None if raw is None else build(QuantSpec, raw, "quantize")


def load_member(path: Path) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode, metadata) from a dense or compressed checkpoint."""
    state, meta = load_checkpoint(path)  # digest checked: tensors and metadata are as saved
    try:
        model: nn.Module = empty_member(meta)
        spec = quant_spec(meta)
    except (KeyError, TypeError, ValueError) as err:  # ConfigError is a ValueError
        raise InputCorrupt(f"{path}: its metadata does not describe a member [{err}]") from None
    if spec is not None:
        from pipeline.compression.quantization import prepare_structure

        model = prepare_structure(model, spec)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        detail = " ".join(str(err).split())[:300]  # torch's message spans lines, one per key
        raise InputCorrupt(f"{path}: its tensors do not fit the architecture it records [{detail}]") from None
    return model.eval(), meta
