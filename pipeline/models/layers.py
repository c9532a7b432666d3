"""The layers of a model, found one way for every method that looks inside a network: pruning (what it
prunes), quantization (what it quantizes), representations (whose inputs it compares), saliency and
activation maximization (the last conv layer)."""

from __future__ import annotations

from torch import nn

WEIGHT_LAYERS = (nn.Conv2d, nn.Linear)


def weight_layers(model: nn.Module, *, exact: bool = False) -> list[tuple[str, nn.Module]]:
    """Every ``nn.Conv2d`` and ``nn.Linear`` of ``model`` with its qualified name, in module order.

    Subclasses count (the simulated quantized layers, timm's ``Conv2dSame``) unless ``exact``: then only
    the two classes themselves, for a rewrite that must not touch a subclass with a forward of its own.
    """
    if exact:
        return [(name, m) for name, m in model.named_modules() if type(m) in WEIGHT_LAYERS]
    return [(name, m) for name, m in model.named_modules() if isinstance(m, WEIGHT_LAYERS)]


def last_conv(model: nn.Module) -> nn.Conv2d:
    """The last ``nn.Conv2d`` (quantized subclasses included) in module order: Grad-CAM's layer (saliency)
    and the layer whose units activation maximization draws (representations)."""
    convs = [m for _, m in weight_layers(model) if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(
            "the model has no convolutional layer (grad_cam and activation maximization need one)"
        )
    return convs[-1]
