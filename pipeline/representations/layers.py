"""Which activations of a network are compared, and capturing them (SPEC section 11).

The representations of a network are the *inputs* of its ``nn.Conv2d`` and ``nn.Linear`` layers
(subclasses included), named by the layer that reads them, plus its output (the logits), named
``"logits"``.  The first such layer is left out: it reads the normalized image, the same for every member.

Inputs rather than outputs keep dense and quantized members comparable: quantization folds a BatchNorm
into the layer before it (pipeline.compression.quantization), so a quantized conv's output is post-BN
while the dense conv's is pre-BN, but both layers read the same thing.  Quantized layers fake-quantize
their input inside their own ``forward``, so the input captured is the float value the previous layer
produced, as for the dense member.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from pipeline.models.layers import weight_layers

LOGITS = "logits"


def representation_layers(model: nn.Module) -> list[str]:
    """Names of the layers whose inputs are compared, in module order, then ``"logits"``.

    Every ``nn.Conv2d`` / ``nn.Linear`` (quantized and timm subclasses included) but the first, named as
    in ``model.named_modules()`` (a pipeline ``Member`` gives ``net.features.1.0`` and so on).
    """
    names = [name for name, _ in weight_layers(model)]
    if LOGITS in names:
        raise ValueError(f"the model has a layer named {LOGITS!r}, the name reserved for its output")
    return [*names[1:], LOGITS]


class _Recorder:
    """Copies each named layer's input (and the model's output) of one batch into preallocated
    (n, p) float64 arrays, flattened per example in C order."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows = slice(0, 0)  # the examples of the batch being run
        self.arrays: dict[str, np.ndarray] = {}
        self.seen: set[str] = set()  # layers recorded in the current batch

    def record(self, name: str, value: torch.Tensor) -> None:
        if name in self.seen:
            raise ValueError(f"layer {name!r} runs more than once per forward pass; its input is ambiguous")
        self.seen.add(name)
        flat = value.detach().reshape(value.shape[0], -1).to("cpu", torch.float64)  # (b, p), C order
        if name not in self.arrays:
            self.arrays[name] = np.empty((self.n, flat.shape[1]), dtype=np.float64)
        self.arrays[name][self.rows] = flat.numpy()

    def hook(self, name: str) -> Callable[[nn.Module, tuple[Any, ...]], None]:
        def pre_hook(_module: nn.Module, args: tuple[Any, ...]) -> None:
            self.record(name, args[0])

        return pre_hook


def capture(
    model: nn.Module, layer_names: Sequence[str], images: torch.Tensor, batch_size: int = 256
) -> dict[str, np.ndarray]:
    """Representations of ``model`` (eval mode) on ``images`` (N, C, H, W), floats in [0, 1].

    Returns ``{name: (N, p) float64}`` for each of ``layer_names`` (from :func:`representation_layers`),
    row n for image n: a layer's input, or the logits for ``"logits"``, flattened per example in C order
    (channels x height x width for a conv input, so p = C * H * W).  Runs under ``torch.inference_mode``
    in batches of ``batch_size``; ``model`` is left unchanged.
    """
    if images.shape[0] == 0:
        raise ValueError("no images to capture representations on")
    modules = dict(model.named_modules())
    missing = [name for name in layer_names if name != LOGITS and name not in modules]
    if missing:
        raise ValueError(f"the model has no layers named {missing}")
    recorder = _Recorder(images.shape[0])
    handles = [
        modules[name].register_forward_pre_hook(recorder.hook(name)) for name in layer_names if name != LOGITS
    ]
    try:
        with torch.inference_mode():
            for start in range(0, images.shape[0], batch_size):
                batch = images[start : start + batch_size]
                recorder.rows, recorder.seen = slice(start, start + batch.shape[0]), set()
                logits = model(batch)
                if LOGITS in layer_names:
                    recorder.record(LOGITS, logits)
                _check_all_ran(recorder.seen, layer_names)
    finally:
        for handle in handles:
            handle.remove()
    return {name: recorder.arrays[name] for name in layer_names}


def _check_all_ran(seen: set[str], layer_names: Sequence[str]) -> None:
    skipped = [name for name in layer_names if name not in seen]
    if skipped:
        raise ValueError(f"layers {skipped} did not run in the forward pass")
