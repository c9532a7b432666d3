"""A population member: the network plus the input normalization it was trained with.

Inputs are images scaled to [0, 1] (uint8 / 255); the per-channel mean and std of the training split are
buffers, so a checkpoint carries everything needed to predict and later stages never recompute them.
"""

from __future__ import annotations

import torch
from torch import nn

from pipeline.models.registry import build_model
from pipeline.pixels import to_unit


class Member(nn.Module):
    """(N, C, H, W) floats in [0, 1] -> (N, K) logits of ``net((x - mean) / std)``."""

    mean: torch.Tensor  # (1, C, 1, 1) buffer
    std: torch.Tensor  # (1, C, 1, 1) buffer

    def __init__(self, net: nn.Module, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", mean.reshape(1, -1, 1, 1).clone())
        self.register_buffer("std", std.reshape(1, -1, 1, 1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


def channel_stats(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images (N, C, H, W), on the [0, 1] scale, in float64."""
    x = to_unit(images, torch.float64)
    return x.mean(dim=(0, 2, 3)), x.std(dim=(0, 2, 3))


def new_member(
    arch: str, image_shape: tuple[int, int, int], num_classes: int, train_images: torch.Tensor
) -> Member:
    """A freshly initialised member whose normalization comes from the training images."""
    c, h, _ = image_shape
    mean, std = channel_stats(train_images)
    return Member(build_model(arch, c, num_classes, h), mean.float(), std.float().clamp_min(1e-6))
