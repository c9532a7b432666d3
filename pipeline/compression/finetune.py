"""Training a pruned member with its masks in force (the ``finetune`` and ``gradual`` schedules).

The same step as dense training (``pipeline.training.loop.train_step``), with a cosine-decaying learning
rate from ``prune.lr`` and a hook after every optimizer step that re-applies (or, for ``gradual``,
recomputes) the masks, so masked weights are exactly zero whenever the model is used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
from torch import nn

from pipeline.config import PruneSpec, TrainConfig
from pipeline.progress import progress
from pipeline.training.loop import TrainData, batch_indices, train_step
from pipeline.training.optim import Optimizer

# Fine-tuning draws its own shuffling stream: the member's seed offset, so it does not replay training's.
SEED_OFFSET = 1_000_003


def finetune_steps(spec: PruneSpec, n_train: int, batch_size: int) -> int:
    """Optimizer steps for ``spec.finetune_epochs`` (fractional epochs allowed; at least one step)."""
    per_epoch = max(n_train // batch_size, 1)
    return max(1, round(spec.finetune_epochs * per_epoch))


def finetune(
    model: nn.Module,
    data: TrainData,
    train_cfg: TrainConfig,
    spec: PruneSpec,
    seed: int,
    after_step: Callable[[int], None],
) -> float:
    """Train ``model`` in place for ``finetune_steps`` steps, calling ``after_step(step)`` after each
    optimizer step (step counts from 0); returns the mean training loss."""
    n = data.train_labels.shape[0]
    total = finetune_steps(spec, n, train_cfg.batch_size)
    cfg = dataclasses.replace(train_cfg, lr=spec.lr, schedule="cosine")
    optimizer = Optimizer(model, cfg, total)
    generator = torch.Generator().manual_seed(seed + SEED_OFFSET)
    model.to(memory_format=torch.channels_last)  # the fast layout of CPU convolutions, as in training
    model.train()
    losses = []
    step = 0
    bar = iter(progress(range(total), total=total, desc="fine-tune"))
    while step < total:
        for index in batch_indices(n, cfg.batch_size, generator):
            loss, _ = train_step(
                model, data.train_images[index], data.train_labels[index], cfg, optimizer, generator
            )
            after_step(step)
            losses.append(float(loss))
            next(bar, None)
            step += 1
            if step == total:
                break
    return sum(losses) / len(losses)
