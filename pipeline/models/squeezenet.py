"""torchvision's SqueezeNet 1.1 (Iandola et al. 2016) with the first conv adapted to the input channels."""

from __future__ import annotations

from torch import nn


def squeezenet(in_channels: int, num_classes: int) -> nn.Module:
    """SqueezeNet 1.1, randomly initialised; works from 28x28 inputs up (its head pools adaptively)."""
    from torchvision.models import squeezenet1_1

    model = squeezenet1_1(weights=None, num_classes=num_classes)
    first = model.features[0]
    if in_channels != first.in_channels:
        model.features[0] = nn.Conv2d(in_channels, first.out_channels, first.kernel_size, first.stride)
    return model
