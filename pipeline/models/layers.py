"""Finding a model's layers by kind, shared by the methods that look inside a network."""

from __future__ import annotations

from torch import nn


def last_conv(model: nn.Module) -> nn.Conv2d:
    """The last ``nn.Conv2d`` (quantized subclasses included) in module order: Grad-CAM's layer (saliency)
    and the layer whose units activation maximization draws (representations)."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(
            "the model has no convolutional layer (grad_cam and activation maximization need one)"
        )
    return convs[-1]
