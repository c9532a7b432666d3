from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys

import pytest
import torch
from torch import nn

from pipeline.config import ConfigError, TrainParams
from pipeline.training.optim import Optimizer, cosine, onecycle, schedule

STEPS = 23


def _net(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    layers = (nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 4))
    return nn.Sequential(*layers)


def _torch_reference(model: nn.Module, cfg: TrainParams, steps: int) -> tuple[torch.optim.Optimizer, object]:
    params = model.parameters()
    optimizer: torch.optim.Optimizer
    if cfg.optimizer == "sgd":
        optimizer = torch.optim.SGD(
            params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.momentum > 0, weight_decay=cfg.weight_decay
        )
    else:
        optimizer = torch.optim.AdamW(
            params, lr=cfg.lr, betas=(cfg.momentum, 0.999), weight_decay=cfg.weight_decay
        )
    sched: torch.optim.lr_scheduler.LRScheduler
    if cfg.schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=cfg.lr, total_steps=steps, pct_start=cfg.warmup_fraction
        )
    elif cfg.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    return optimizer, sched


def _loss(model: nn.Module, step: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(step)
    x = torch.rand(8, 1, 6, 6, generator=gen)
    y = torch.randint(0, 4, (8,), generator=gen)
    return nn.functional.cross_entropy(model(x), y)


@pytest.mark.parametrize("kind", ["sgd", "adamw"])
@pytest.mark.parametrize("shape", ["onecycle", "cosine", "constant"])
def test_updates_equal_torch_optim_bit_for_bit(kind: str, shape: str) -> None:
    cfg = dataclasses.replace(TrainParams(), optimizer=kind, schedule=shape, lr=0.05, warmup_fraction=0.3)
    ours, theirs = _net(), _net()
    optimizer = Optimizer(ours, cfg, STEPS)
    reference, sched = _torch_reference(theirs, cfg, STEPS)
    for step in range(STEPS):
        assert optimizer.lr == reference.param_groups[0]["lr"]
        optimizer.zero_grad()
        _loss(ours, step).backward()
        optimizer.step()
        reference.zero_grad(set_to_none=True)
        _loss(theirs, step).backward()
        reference.step()
        sched.step()  # type: ignore[attr-defined]
        for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
            assert torch.equal(a, b), f"step {step}"


def test_onecycle_cycles_momentum_like_torch() -> None:
    model = _net()
    reference = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(reference, max_lr=0.1, total_steps=STEPS, pct_start=0.2)
    values = onecycle(0.1, STEPS, 0.2)
    for lr, momentum in values:
        assert (lr, momentum) == (reference.param_groups[0]["lr"], reference.param_groups[0]["momentum"])
        reference.step()
        sched.step()
    assert values[0] == (pytest.approx(0.1 / 25), 0.95)
    assert max(lr for lr, _ in values) == pytest.approx(0.1, rel=0.02)
    assert values[-1][0] == pytest.approx(0.1 / 25 / 1e4) and values[-1][1] == pytest.approx(0.95)


def test_a_one_step_warm_up_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"train\.warmup_fraction: 0\.2 of 5 steps"):
        onecycle(0.1, 5, 0.2)


def test_cosine_falls_from_lr_towards_zero() -> None:
    values = cosine(0.2, 10)
    assert values[0] == 0.2 and all(a > b > 0 for a, b in itertools.pairwise(values))
    assert values[5] == pytest.approx(0.1)


def test_constant_schedule_keeps_lr_and_momentum() -> None:
    cfg = dataclasses.replace(TrainParams(), schedule="constant", lr=0.3, momentum=0.5)
    assert schedule(cfg, 4) == [(0.3, 0.5)] * 4


def test_parameters_without_gradient_are_left_alone() -> None:
    model = _net()
    conv, head = model[0], model[4]
    assert isinstance(conv, nn.Conv2d) and isinstance(head, nn.Linear)
    conv.weight.requires_grad_(False)
    before = conv.weight.clone()
    optimizer = Optimizer(model, TrainParams(), 3)
    _loss(model, 0).backward()
    head.bias.grad = None  # a trainable parameter without a gradient this step
    bias = head.bias.clone()
    optimizer.step()
    assert torch.equal(conv.weight, before) and torch.equal(head.bias, bias)
    fresh = _net()[4]
    assert isinstance(fresh, nn.Linear) and not torch.equal(head.weight, fresh.weight)


def test_stepping_past_the_schedule_is_an_error() -> None:
    model = _net()
    optimizer = Optimizer(model, TrainParams(), 1)
    _loss(model, 0).backward()
    optimizer.step()
    with pytest.raises(RuntimeError, match="more than its 1 scheduled steps"):
        optimizer.step()


def test_training_steps_do_not_import_dynamo() -> None:
    """The reason this module exists: torch.optim would import TorchDynamo (1.3 s per stage process)."""
    code = (
        "import sys, torch\n"
        "from pipeline.config import ConfigError, TrainParams\n"
        "from pipeline.training.optim import Optimizer\n"
        "m = torch.nn.Linear(3, 2)\n"
        "o = Optimizer(m, TrainParams(), 2)\n"
        "m(torch.ones(1, 3)).sum().backward()\n"
        "o.step(); o.zero_grad()\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
