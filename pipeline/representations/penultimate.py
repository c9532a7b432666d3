"""The dense members' penultimate representation of the test split: what the classifier reads.

The penultimate representation of a network is the input of its last weight layer (the classifier,
:func:`pipeline.models.layers.weight_layers`), one row per image: a ``nn.Linear``'s input as it is, a
convolutional classifier's input (SqueezeNet's) averaged over its positions, so that each row holds one
value per channel. The ``atypicality`` stage measures each test image's atypicality in it for every dense
member (:func:`pipeline.analysis.pie_traits.class_normalized_distance`), for the ``traits`` stage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pipeline.models.layers import weight_layers
from pipeline.pixels import to_unit

log = logging.getLogger("pipeline.atypicality")


def classifier_layer(model: nn.Module) -> str:
    """The qualified name of ``model``'s last weight layer, whose input is its penultimate
    representation."""
    layers = weight_layers(model)
    if not layers:
        raise ValueError("the model has no nn.Linear or nn.Conv2d layer: no classifier to read the input of")
    return layers[-1][0]


@torch.inference_mode()
def penultimate(model: nn.Module, images: torch.Tensor, batch_size: int) -> np.ndarray:
    """(N, D) float32: ``model``'s (eval mode) penultimate representation of uint8 images (N, C, H, W),
    run in batches of ``batch_size`` exactly as ``pipeline.prediction.predict_logits`` runs them."""
    if images.shape[0] == 0:
        raise ValueError("no images to take the penultimate representation of")
    model.eval()
    layer = dict(model.named_modules())[classifier_layer(model)]
    out: np.ndarray | None = None
    rows = slice(0, 0)

    def record(_module: nn.Module, args: tuple[Any, ...]) -> None:
        nonlocal out
        x = args[0].detach()
        x = x.float().mean(dim=(2, 3)) if x.ndim == 4 else x.float().reshape(x.shape[0], -1)
        if out is None:
            out = np.empty((images.shape[0], x.shape[1]), dtype=np.float32)
        out[rows] = x.cpu().numpy()

    handle = layer.register_forward_pre_hook(record)
    try:
        for start in range(0, images.shape[0], batch_size):
            batch = to_unit(images[start : start + batch_size])
            rows = slice(start, start + batch.shape[0])
            model(batch.contiguous(memory_format=torch.channels_last))
    finally:
        handle.remove()
    if out is None:
        raise ValueError(f"the classifier {classifier_layer(model)!r} did not run in the forward pass")
    return out


def population_atypicality(
    checkpoints: Mapping[int, Path],
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    device: torch.device,
) -> tuple[str, int, dict[int, np.ndarray]]:
    """(the classifier layer, the representation's width, seed -> (N,) float32 atypicality) of every
    dense member (``checkpoints``: seed -> its checkpoint) on uint8 ``images`` with ``labels``: each
    member's penultimate representation, measured in itself
    (:func:`pipeline.analysis.pie_traits.class_normalized_distance`) and not kept; one member at a time.
    Members whose classifiers differ are an error."""
    from pipeline.analysis.atypicality import class_normalized_distance
    from pipeline.compression.load import load_model

    x = torch.from_numpy(np.array(images)).to(
        device
    )  # read into memory: a prepared split is mapped read-only
    arrays, layers, widths = {}, set(), set()
    for seed, path in checkpoints.items():
        model = load_model(path)[0].to(device)
        start = time.perf_counter()
        features = penultimate(model, x, batch_size)
        rate = x.shape[0] / (time.perf_counter() - start)
        arrays[seed] = class_normalized_distance(features, labels).astype(np.float32)
        layers.add(classifier_layer(model))
        widths.add(features.shape[1])
        log.info(
            "dense seed %d: %d x %d at %.0f images/s; atypicality median %.3f, largest %.2f",
            *(seed, *features.shape, rate, float(np.median(arrays[seed])), float(arrays[seed].max())),
        )
    if len(layers) != 1 or len(widths) != 1:
        raise ValueError(f"the dense members' classifiers differ: {sorted(layers)}, widths {sorted(widths)}")
    return layers.pop(), widths.pop(), arrays
