"""Training a pruned member with its masks in force (the ``finetune`` and ``gradual`` schedules).

The same step as dense training (``pipeline.training.loop.train_step``), with a cosine-decaying learning
rate from ``prune.lr`` and a hook after every optimizer step that re-applies (or, for ``gradual``,
recomputes) the masks, so masked weights are exactly zero whenever the model is used.  Fine-tuning of more
than an epoch can hand its state to a :class:`~pipeline.training.resume.Resume` after every full pass and
continue from one, as dense training does (pipeline/training/resume.py).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from pipeline.compression.pruning import GradualPruner, MaskKeeper
from pipeline.config import PruneSpec, TrainParams
from pipeline.progress import progress
from pipeline.training.loop import TrainData, batch_indices, train_step
from pipeline.training.optim import Optimizer
from pipeline.training.resume import EpochState, Resume, restore_run, run_state, section

# Fine-tuning draws its own shuffling stream: the member's seed offset, so it does not replay training's.
SEED_OFFSET = 1_000_003


def finetune_steps(spec: PruneSpec, n_train: int, batch_size: int) -> int:
    """Optimizer steps for ``spec.finetune_epochs`` (fractional epochs allowed; at least one step)."""
    per_epoch = max(n_train // batch_size, 1)
    return max(1, round(spec.finetune_epochs * per_epoch))


def finetune(
    model: nn.Module,
    data: TrainData,
    train_cfg: TrainParams,
    spec: PruneSpec,
    seed: int,
    hook: MaskKeeper,
    resume: Resume | None = None,
) -> float:
    """Train ``model`` in place for ``finetune_steps`` steps, calling ``hook.after_step(step)`` after each
    optimizer step (step counts from 0); returns the mean training loss.

    With ``resume``, fine-tuning continues after ``resume.start`` (when given) and hands its state to
    ``resume.save`` after every full pass over the training split that leaves steps to do."""
    n = data.train_labels.shape[0]
    total = finetune_steps(spec, n, train_cfg.batch_size)
    cfg = dataclasses.replace(train_cfg, lr=spec.lr, schedule="cosine")
    optimizer = Optimizer(model, cfg, total)
    generator = torch.Generator().manual_seed(seed + SEED_OFFSET)
    model.to(memory_format=torch.channels_last)  # the fast layout of CPU convolutions, as in training
    model.train()
    losses: list[float] = []
    if resume is not None and resume.start is not None:
        losses = restore_finetune(resume.start, model, optimizer, generator, hook)
    step = len(losses)
    bar = iter(progress(range(step, total), total=total - step, desc="fine-tune"))
    while step < total:
        for index in batch_indices(n, cfg.batch_size, generator):
            loss, _ = train_step(
                model, data.train_images[index], data.train_labels[index], cfg, optimizer, generator
            )
            hook.after_step(step)
            losses.append(float(loss))
            next(bar, None)
            step += 1
            if step == total:
                break
        else:  # a full pass with steps left: an epoch boundary to resume from
            if resume is not None:
                epoch = step // max(n // cfg.batch_size, 1)
                resume.save(finetune_state(model, optimizer, generator, hook, losses, epoch))
    return sum(losses) / len(losses)


def finetune_state(
    model: nn.Module,
    optimizer: Optimizer,
    generator: torch.Generator,
    hook: MaskKeeper,
    losses: list[float],
    epoch: int,
) -> EpochState:
    """The state :func:`finetune` resumes from after ``len(losses)`` steps (``epoch`` full passes): the
    run's, plus the masks and (gradual) the pruning scores' generator."""
    state = run_state(model, optimizer, generator, {"epoch": epoch, "losses": list(losses)})
    extra = {f"masks.{name}": mask.to("cpu", copy=True) for name, mask in hook.masks.items()}
    if isinstance(hook, GradualPruner):
        extra["rng.pruning"] = hook.generator.get_state()
    return EpochState(state.tensors | extra, state.values)


def restore_finetune(
    state: EpochState, model: nn.Module, optimizer: Optimizer, generator: torch.Generator, hook: MaskKeeper
) -> list[float]:
    """Put ``state`` back into the run and its hook; returns the losses of the steps already taken."""
    restore_run(state, model, optimizer, generator)
    masks = section(state.tensors, "masks")
    hook.masks = {name: masks[name].to(mask.device) for name, mask in hook.masks.items()}
    if isinstance(hook, GradualPruner):
        hook.generator.set_state(state.tensors["rng.pruning"])
    return [float(x) for x in state.values["losses"]]
