"""Stored pixels and model inputs: uint8 images (0..255) as floats in [0, 1], the one scaling every stage
applies before a model (which then normalizes with its training split's statistics, SPEC section 4), and
back, rounded, as the published corrupted datasets store their images."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def to_unit(images: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``images / 255`` in float32 (or ``dtype``): a new tensor, ``images`` is left as it is."""
    import torch

    return images.to(torch.float32 if dtype is None else dtype) / 255.0


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Floats in [0, 1] (values outside are clamped) as uint8 pixels: ``round(images * 255)``."""
    import torch

    return (images.clamp(0, 1) * 255).round().to(torch.uint8)
