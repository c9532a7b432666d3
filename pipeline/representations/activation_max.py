"""Activation maximization (SPEC section 11, the "compressed CNN surgery" starter): for a few units
(channels) of a layer, the input image that excites each most, found by gradient ascent from seeded noise.

The same seed gives the same starting image for the dense and the compressed member, so their images can
be set side by side.  The objective is the unit's mean activation over its feature map, minus a small L2
penalty that keeps the image from saturating; pixels stay in [0, 1] (the members' input range) after
every step.  Quantized members are differentiated through the straight-through estimator.

The ascent is Adam (Kingma & Ba; torch's defaults betas (0.9, 0.999), eps 1e-8, no weight decay) through
torch's functional update ``torch.optim.adam.adam`` (what ``torch.optim.Adam.step`` calls), as
``pipeline/training/optim.py`` does for training: constructing any torch optimizer imports
``torch._dynamo`` (1.3 s, a quarter of the stage's process on two cores).  A test checks the step against
``torch.optim.Adam`` bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.optim.adam import adam

if TYPE_CHECKING:
    from pipeline.config import RepresentationsParams


def _activations(model: nn.Module, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(N, C, ...) output of ``layer`` when ``model`` runs on ``x``."""
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda _m, _i, out: captured.append(out))
    try:
        model(x)
    finally:
        handle.remove()
    return captured[0]


def unit_activation(
    model: nn.Module, layer: nn.Module, images: torch.Tensor, units: Sequence[int]
) -> torch.Tensor:
    """(N,) mean activation of unit ``units[n]`` of ``layer`` on image n."""
    out = _activations(model, layer, images)
    index = torch.as_tensor(list(units), dtype=torch.long)
    return out[torch.arange(out.shape[0]), index].flatten(1).mean(dim=1)


BETAS = (0.9, 0.999)
EPS = 1e-8


@torch.no_grad()
def adam_step(
    x: torch.Tensor, grad: torch.Tensor, m: torch.Tensor, v: torch.Tensor, step: torch.Tensor, lr: float
) -> None:
    """One Adam descent step on ``x`` in place, by torch's own update; ``m``, ``v`` are its moment buffers
    and ``step`` (a float32 scalar tensor from 0) the step count, all updated in place."""
    b1, b2 = BETAS
    adam(
        [x],
        [grad],
        [m],
        [v],
        [],
        [step],
        amsgrad=False,
        beta1=b1,
        beta2=b2,
        lr=lr,
        weight_decay=0.0,
        eps=EPS,
        maximize=False,
    )


def maximize_units(
    model: nn.Module,
    layer: nn.Module,
    units: Sequence[int],
    image_shape: tuple[int, int, int],
    *,
    steps: int = 128,
    lr: float = 0.05,
    l2: float = 1e-3,
    seed: int = 0,
) -> np.ndarray:
    """(U, C, H, W) float32 images in [0, 1], one per unit of ``layer``, by Adam ascent on the unit's
    mean activation from noise drawn with ``seed`` (0.5 ± 0.05 uniform).  ``model`` stays unchanged."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        gen = torch.Generator().manual_seed(seed)
        start = 0.5 + (torch.rand((len(units), *image_shape), generator=gen) - 0.5) * 0.1
        x = start.clone().requires_grad_(True)
        m, v, count = torch.zeros_like(x), torch.zeros_like(x), torch.tensor(0.0)
        for _ in range(steps):
            objective = unit_activation(model, layer, x, units) - l2 * x.pow(2).flatten(1).sum(dim=1)
            (grad,) = torch.autograd.grad(-objective.sum(), x)
            adam_step(x, grad, m, v, count, lr)
            with torch.no_grad():
                x.clamp_(0.0, 1.0)
    finally:
        for p in model.parameters():
            p.requires_grad_(True)
    return x.detach().numpy().astype(np.float32)


# ------------------------------------------------------- the stages' use: dense reference, then each config


def last_conv_of(model: nn.Module, units: int) -> tuple[str, nn.Conv2d]:
    """(name, layer) of ``model``'s last conv layer, whose units 0..``units``-1 are drawn; a ConfigError
    when it has fewer channels (no silent cut: the params would claim units never drawn)."""
    from pipeline.config import ConfigError
    from pipeline.models.layers import last_conv

    conv = last_conv(model)
    if units > conv.out_channels:
        message = f"{units} is more than the {conv.out_channels} channels of the last conv layer; use at most"
        raise ConfigError(f"representations.units: {message} {conv.out_channels}")
    return next(name for name, m in model.named_modules() if m is conv), conv


def activations(model: nn.Module, images: np.ndarray, units: Sequence[int]) -> list[float | None]:
    """Image n's (``images`` (U, C, H, W) in [0, 1]) final mean activation of unit ``units[n]`` of
    ``model``'s last conv layer; None for a non-finite one."""
    from pipeline.models.layers import last_conv
    from pipeline.numbers import clean

    with torch.inference_mode():
        act = unit_activation(model, last_conv(model), torch.from_numpy(images), units)
    return [clean(float(v)) for v in act]


def dense_maximization(
    dense: nn.Module, cfg: RepresentationsParams, seed: int, shape: Sequence[int]
) -> tuple[dict[str, Any], np.ndarray]:
    """The dense reference's half: images (U, C, H, W) maximizing units 0..``representations.units``-1
    of the dense member of ``seed`` from noise drawn with ``seed``, and the entry ``layer``, ``seed``,
    ``units``, ``dense_on_dense`` (each image's final activation on that member)."""
    layer, conv = last_conv_of(dense, cfg.units)
    units = list(range(cfg.units))
    c, h, w = (int(d) for d in shape)  # an image's (C, H, W)
    images = maximize_units(dense, conv, units, (c, h, w), steps=cfg.steps, lr=cfg.lr, seed=seed)
    return {
        "layer": layer,
        "seed": seed,
        "units": units,
        "dense_on_dense": activations(dense, images, units),
    }, images


def config_maximization(
    reference: Mapping[str, Any],
    dense_images: np.ndarray,
    cell: nn.Module | None,
    dense: Callable[[], nn.Module],
    cfg: RepresentationsParams,
) -> tuple[dict[str, Any], np.ndarray]:
    """The config's entry and images (U, C, H, W): the reference's (:func:`dense_maximization`) and the
    cell's of the same seed, found from the same noise, each image shown to both members
    (``<image>_on_<member>``: does the compressed unit still respond to what the dense unit looks for?).
    ``cell`` None: the dense config, whose cell is the dense member itself; ``dense()`` loads that
    member, needed only to show it the cell's images."""
    units, on_dense = list(reference["units"]), list(reference["dense_on_dense"])
    entry = {key: reference[key] for key in ("layer", "seed", "units")} | {"dense_on_dense": on_dense}
    if cell is None:
        same = dict.fromkeys(
            ("dense_on_compressed", "compressed_on_compressed", "compressed_on_dense"), on_dense
        )
        return entry | same, dense_images
    _, conv = last_conv_of(cell, len(units))
    shape = (int(dense_images.shape[1]), int(dense_images.shape[2]), int(dense_images.shape[3]))
    found = maximize_units(cell, conv, units, shape, steps=cfg.steps, lr=cfg.lr, seed=int(reference["seed"]))
    return entry | {
        "dense_on_compressed": activations(cell, dense_images, units),
        "compressed_on_compressed": activations(cell, found, units),
        "compressed_on_dense": activations(dense(), found, units),
    }, found
