"""What a training run saves after each epoch to continue, bit for bit, where a kill stopped it.

An :class:`EpochState` holds the model's state dict (weights and BatchNorm statistics), the optimizer's
state (SGD momentum buffers, or AdamW moments and step counts; the schedule position), every random stream
the run draws from (its own ``torch.Generator`` for shuffling and augmentation, and torch's global CPU and
CUDA generators, which dropout would use) and plain values (the epoch, the history so far).  Batches are a
fresh ``randperm`` of the run's generator each epoch, so restoring the generator replays the data order.
Nothing here touches the disk: a stage keeps the state with :class:`pipeline.io.resume.ResumeFile`.
Training draws nothing from numpy's or Python's ``random``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from pipeline.training.optim import Optimizer


@dataclass(frozen=True)
class EpochState:
    """A run after its ``values["epoch"]``-th completed epoch: CPU tensors by name, and JSON values."""

    tensors: dict[str, torch.Tensor]
    values: dict[str, Any]

    @property
    def epoch(self) -> int:
        return int(self.values["epoch"])


@dataclass(frozen=True)
class Resume:
    """Where a run continues from (``start``; None: from its beginning) and what it hands its state to
    after every completed epoch (``save``)."""

    start: EpochState | None
    save: Callable[[EpochState], None]


def resume_with(
    saved: tuple[dict[str, torch.Tensor], dict[str, Any]] | None,
    store: Callable[[dict[str, torch.Tensor], dict[str, Any]], None],
) -> Resume:
    """A :class:`Resume` from a stored (tensors, values) pair (None: nothing stored) and the function that
    stores one (``ResumeFile.load`` and ``ResumeFile.save`` of pipeline/io/resume.py)."""
    start = None if saved is None else EpochState(*saved)
    return Resume(start, lambda state: store(state.tensors, state.values))


def _cpu(tensor: torch.Tensor) -> torch.Tensor:
    """A contiguous CPU copy (safetensors stores contiguous tensors; a copy does not move with training)."""
    return tensor.detach().to("cpu", memory_format=torch.contiguous_format, copy=True)


def section(tensors: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries of ``tensors`` named ``<prefix>.<name>``, by ``name``."""
    start = f"{prefix}."
    return {k[len(start) :]: v for k, v in tensors.items() if k.startswith(start)}


def model_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    return {f"model.{k}": _cpu(v) for k, v in model.state_dict().items()}


def restore_model(model: nn.Module, tensors: Mapping[str, torch.Tensor]) -> None:
    """Copy the saved state into ``model``'s own tensors (which keeps their device and memory format)."""
    model.load_state_dict(section(tensors, "model"), strict=True)


def optimizer_tensors(optimizer: Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, values) of the state ``optimizer.kind`` uses; values hold the schedule position."""
    tensors: dict[str, torch.Tensor] = {}
    if optimizer.kind == "sgd":
        for i, buffer in enumerate(optimizer.momentum_buffers):
            if buffer is not None:  # None until the parameter's first gradient
                tensors[f"optimizer.momentum.{i}"] = _cpu(buffer)
    else:
        for name, group in (
            ("exp_avg", optimizer.exp_avgs),
            ("exp_avg_sq", optimizer.exp_avg_sqs),
            ("step", optimizer.state_steps),
        ):
            tensors |= {f"optimizer.{name}.{i}": _cpu(t) for i, t in enumerate(group)}
    return tensors, {"optimizer_steps": optimizer.taken}


@torch.no_grad()
def restore_optimizer(
    optimizer: Optimizer, tensors: Mapping[str, torch.Tensor], values: Mapping[str, Any]
) -> None:
    saved = section(tensors, "optimizer")
    optimizer.taken = int(values["optimizer_steps"])
    if optimizer.kind == "sgd":
        for i, p in enumerate(optimizer.params):
            buffer = saved.get(f"momentum.{i}")
            # the parameter's layout (channels-last convolutions), as torch's sgd makes its buffers
            optimizer.momentum_buffers[i] = None if buffer is None else torch.empty_like(p).copy_(buffer)
        return
    for name, group in (
        ("exp_avg", optimizer.exp_avgs),
        ("exp_avg_sq", optimizer.exp_avg_sqs),
        ("step", optimizer.state_steps),
    ):
        for i, t in enumerate(group):
            t.copy_(saved[f"{name}.{i}"])


def rng_tensors(generator: torch.Generator) -> dict[str, torch.Tensor]:
    """The run's generator and torch's global generators (CPU, and every CUDA device when there is one)."""
    tensors = {"rng.run": generator.get_state(), "rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors |= {f"rng.cuda.{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())}
    return tensors


def restore_rng(generator: torch.Generator, tensors: Mapping[str, torch.Tensor]) -> None:
    generator.set_state(tensors["rng.run"])
    torch.set_rng_state(tensors["rng.torch"])
    cuda = section(tensors, "rng.cuda")
    if cuda:
        torch.cuda.set_rng_state_all([cuda[str(i)] for i in range(len(cuda))])


def run_state(
    model: nn.Module, optimizer: Optimizer, generator: torch.Generator, values: Mapping[str, Any]
) -> EpochState:
    """The :class:`EpochState` of a run now: model, optimizer and random streams, plus ``values``
    (which must hold ``epoch``)."""
    optim, position = optimizer_tensors(optimizer)
    return EpochState(model_tensors(model) | optim | rng_tensors(generator), {**values, **position})


def restore_run(
    state: EpochState, model: nn.Module, optimizer: Optimizer, generator: torch.Generator
) -> None:
    """Put ``state``'s model, optimizer and random streams back (the inverse of :func:`run_state`)."""
    restore_model(model, state.tensors)
    restore_optimizer(optimizer, state.tensors, state.values)
    restore_rng(generator, state.tensors)
