"""Saliency maps through captum behind one call (SPEC section 9).

``saliency_maps(model, images, targets, method)`` returns one map per image: the attribution's absolute
value, the maximum over input channels, scaled to [0, 1] per image (an all-zero attribution stays zero).
Methods: ``gradient`` (vanilla gradient, Simonyan et al.; the default), ``integrated_gradients``
(Sundararajan et al., from a black baseline) and ``grad_cam`` (Selvaraju et al., on the last conv layer,
upsampled bilinearly to the input size).

Quantized members are differentiated through their simulated numerics: activation fake-quantization
passes gradients straight through (pipeline.compression.quantization), so their maps are those of the
straight-through estimator.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from pipeline.models.layers import last_conv
from pipeline.saliency import METHODS


def _gradient(model: nn.Module, x: torch.Tensor, targets: torch.Tensor, steps: int) -> torch.Tensor:
    from captum.attr import Saliency

    return Saliency(model).attribute(x, target=targets, abs=True)


def _integrated_gradients(
    model: nn.Module, x: torch.Tensor, targets: torch.Tensor, steps: int
) -> torch.Tensor:
    from captum.attr import IntegratedGradients

    ig = IntegratedGradients(model)
    return ig.attribute(
        x, baselines=torch.zeros_like(x), target=targets, n_steps=steps, method="riemann_trapezoid"
    )


def _grad_cam(model: nn.Module, x: torch.Tensor, targets: torch.Tensor, steps: int) -> torch.Tensor:
    from captum.attr import LayerAttribution, LayerGradCam

    cam = LayerGradCam(model, last_conv(model)).attribute(x, target=targets, relu_attributions=True)
    return LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode="bilinear")


_ATTRIBUTE: dict[str, Callable[[nn.Module, torch.Tensor, torch.Tensor, int], torch.Tensor]] = {
    "gradient": _gradient,
    "integrated_gradients": _integrated_gradients,
    "grad_cam": _grad_cam,
}


def normalize_maps(attributions: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) attributions -> (N, H, W): |a|, max over channels, divided by each map's maximum."""
    maps = attributions.detach().abs().amax(dim=1)
    peak = maps.flatten(1).amax(dim=1).clamp(min=torch.finfo(maps.dtype).tiny)
    return maps / peak[:, None, None]


def saliency_maps(
    model: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    method: str = "gradient",
    batch_size: int = 64,
    steps: int = 32,
) -> np.ndarray:
    """(N, H, W) float32 maps in [0, 1] of ``model`` (eval mode) for float ``images`` (N, C, H, W) in
    [0, 1] and the class ``targets`` (N,); ``steps``: integrated-gradients steps."""
    if method not in _ATTRIBUTE:
        raise ValueError(f"unknown saliency method {method!r}; allowed: {', '.join(METHODS)}")
    model.eval()
    attribute = _ATTRIBUTE[method]
    out = []
    for start in range(0, images.shape[0], batch_size):
        x = images[start : start + batch_size].detach().float().clone().requires_grad_(True)
        t = targets[start : start + batch_size].long()
        out.append(normalize_maps(attribute(model, x, t, steps)))
    return torch.cat(out).numpy().astype(np.float32)
