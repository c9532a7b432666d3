"""SGD and AdamW with their per-step learning-rate schedules, without ``torch.optim.Optimizer``.

Constructing any ``torch.optim.Optimizer`` imports TorchDynamo (``add_param_group`` and ``zero_grad`` are
wrapped by ``torch._disable_dynamo``): 1.3 s per process on this project's 2-core machine, paid by every
``train@seed`` and every fine-tuned ``compress@config-seed`` cell of a study. :class:`Optimizer` keeps the
state itself and calls torch's own functional updates (``torch.optim.sgd.sgd``, ``torch.optim.adamw.adamw``,
which is what ``torch.optim.SGD.step`` and ``AdamW.step`` call), and :func:`schedule` reproduces
``OneCycleLR`` (with its momentum cycling), ``CosineAnnealingLR`` and a constant rate step by step, with the
same floating-point arithmetic. tests/training/test_optim.py checks both against torch.optim bit for bit.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.optim.adamw import adamw
from torch.optim.sgd import sgd

from pipeline.config import ConfigError, TrainParams

# OneCycleLR's defaults (torch.optim.lr_scheduler.OneCycleLR), kept as the project's onecycle schedule.
ONECYCLE_DIV_FACTOR = 25.0
ONECYCLE_FINAL_DIV_FACTOR = 1e4
ONECYCLE_BASE_MOMENTUM = 0.85
ONECYCLE_MAX_MOMENTUM = 0.95
ADAMW_BETA2 = 0.999
ADAMW_EPS = 1e-8


def _annealing_cos(start: float, end: float, pct: float) -> float:
    """Cosine from ``start`` (pct 0) to ``end`` (pct 1), in OneCycleLR's operation order."""
    cos_out = math.cos(math.pi * pct) + 1
    return end + (start - end) / 2.0 * cos_out


def onecycle(max_lr: float, steps: int, warmup_fraction: float) -> list[tuple[float, float]]:
    """(learning rate, momentum) of each step under ``OneCycleLR(max_lr, total_steps=steps,
    pct_start=warmup_fraction)``: cosine warm-up from max_lr/25 to max_lr while momentum falls from 0.95 to
    0.85, then cosine annealing to max_lr/25/1e4 while momentum rises back to 0.95."""
    if float(warmup_fraction * steps) == 1.0:  # a warm-up phase of zero length: torch divides by zero
        raise ConfigError(
            f"train.warmup_fraction: {warmup_fraction} of {steps} steps is a one-step warm-up, which the "
            "onecycle schedule cannot take; use a larger or smaller fraction"
        )
    initial, low, high = max_lr / ONECYCLE_DIV_FACTOR, ONECYCLE_BASE_MOMENTUM, ONECYCLE_MAX_MOMENTUM
    phases = (
        (float(warmup_fraction * steps) - 1, initial, max_lr, high, low),
        (steps - 1, max_lr, initial / ONECYCLE_FINAL_DIV_FACTOR, low, high),
    )
    values = []
    for step in range(steps):
        start_step = 0.0
        for i, (end_step, lr_a, lr_b, m_a, m_b) in enumerate(phases):
            if step <= end_step or i == len(phases) - 1:
                pct = (step - start_step) / (end_step - start_step)
                values.append((_annealing_cos(lr_a, lr_b, pct), _annealing_cos(m_a, m_b, pct)))
                break
            start_step = end_step
    return values


def cosine(lr: float, steps: int) -> list[float]:
    """Learning rate of each step under ``CosineAnnealingLR(T_max=steps)`` from ``lr`` to 0, by its recursive
    form (each rate from the previous one), so the values equal torch's to the last bit."""
    values = [lr]
    for step in range(1, steps):
        ratio = (1 + math.cos(math.pi * step / steps)) / (1 + math.cos(math.pi * (step - 1) / steps))
        values.append(ratio * (values[-1] - 0.0) + 0.0)
    return values


def schedule(cfg: TrainParams, steps: int) -> list[tuple[float, float]]:
    """(learning rate, momentum or AdamW beta1) of each of ``steps`` optimizer steps under ``cfg.schedule``;
    only ``onecycle`` moves the momentum, the others keep ``cfg.momentum``."""
    if cfg.schedule == "onecycle":
        return onecycle(cfg.lr, steps, cfg.warmup_fraction)
    if cfg.schedule == "cosine":
        return [(lr, cfg.momentum) for lr in cosine(cfg.lr, steps)]
    return [(cfg.lr, cfg.momentum)] * steps


class Optimizer:
    """``cfg.optimizer`` (SGD with Nesterov momentum, or AdamW) over ``steps`` scheduled steps.

    ``step()`` applies the update of the next step of :func:`schedule` to every parameter with a gradient;
    ``lr`` is the learning rate the next step will use.
    """

    def __init__(self, model: nn.Module, cfg: TrainParams, steps: int) -> None:
        self.params: list[torch.Tensor] = [p for p in model.parameters() if p.requires_grad]
        self.kind = cfg.optimizer
        self.weight_decay = cfg.weight_decay
        self.nesterov = cfg.momentum > 0
        self.values = schedule(cfg, steps)
        self.taken = 0
        self.momentum_buffers: list[torch.Tensor | None] = [None] * len(self.params)
        self.exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sqs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        scalar = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
        self.state_steps = [torch.tensor(0.0, dtype=scalar) for _ in self.params]

    @property
    def lr(self) -> float:
        return self.values[min(self.taken, len(self.values) - 1)][0]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        if self.taken >= len(self.values):
            raise RuntimeError(f"optimizer stepped more than its {len(self.values)} scheduled steps")
        lr, momentum = self.values[self.taken]
        self.taken += 1
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        params = [self.params[i] for i in live]
        grads = [self.params[i].grad for i in live]
        if self.kind == "sgd":
            buffers = [self.momentum_buffers[i] for i in live]
            sgd(
                params,
                grads,  # type: ignore[arg-type]
                buffers,
                weight_decay=self.weight_decay,
                momentum=momentum,
                lr=lr,
                dampening=0.0,
                nesterov=self.nesterov,
                maximize=False,
            )
            for i, buffer in zip(live, buffers, strict=True):
                self.momentum_buffers[i] = buffer
            return
        adamw(
            params,
            grads,  # type: ignore[arg-type]
            [self.exp_avgs[i] for i in live],
            [self.exp_avg_sqs[i] for i in live],
            [],
            [self.state_steps[i] for i in live],
            amsgrad=False,
            beta1=momentum,
            beta2=ADAMW_BETA2,
            lr=lr,
            weight_decay=self.weight_decay,
            eps=ADAMW_EPS,
            maximize=False,
        )
