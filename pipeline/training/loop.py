"""The epoch loop that trains one dense member, deterministically for a given seed.

The training split stays in memory as uint8 (N, C, H, W); each step gathers a batch by index, scales it to
[0, 1] and augments it in one vectorised call, so no DataLoader workers or per-image Python run.  All
randomness (initialisation, shuffling, augmentation) flows from the member's seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.config import TrainParams
from pipeline.data.prepare import Prepared
from pipeline.numbers import fmt
from pipeline.pixels import to_unit
from pipeline.progress import progress
from pipeline.training.optim import Optimizer
from pipeline.training.resume import EpochState, Resume, restore_run, run_state


@dataclass(frozen=True)
class EpochRecord:
    """One row of the training history (losses are mean cross-entropy, accuracies fractions)."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    lr: float
    images_per_second: float  # training steps only, not the validation pass

    def summary(self) -> str:
        return (
            f"train loss {fmt(self.train_loss)} acc {fmt(self.train_acc)} | "
            f"val loss {fmt(self.val_loss)} acc {fmt(self.val_acc)} | {fmt(self.images_per_second, 0)} img/s"
        )


def batch_indices(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """A fresh random permutation of range(n) cut into batches; the last short batch is dropped
    (unless it is the only one) so BatchNorm never sees a batch of one."""
    order = torch.randperm(n, generator=generator)
    full = max(n // batch_size, 1)
    for i in range(full):
        yield order[i * batch_size : (i + 1) * batch_size]


def augment(x: torch.Tensor, names: tuple[str, ...], generator: torch.Generator) -> torch.Tensor:
    """Per-example random augmentation of a (B, C, H, W) batch: ``hflip`` (p = 0.5) and ``shift``
    (translation by up to 2 pixels in each direction, zero fill)."""
    b = x.shape[0]
    if "hflip" in names:
        flip = torch.rand(b, generator=generator) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    if "shift" in names:
        x = random_shift(x, 2, generator)
    return x


def random_shift(x: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by its own offset in [-pad, pad]^2: pad, then gather a shifted window."""
    b, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))  # (B, C, H+2p, W+2p)
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None]  # (B, 1, H, 1)
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, None, :]  # (B, 1, 1, W)
    batch = torch.arange(b)[:, None, None, None]
    channel = torch.arange(x.shape[1])[None, :, None, None]
    return padded[batch, channel, rows, cols]


def to_input(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 (B, C, H, W) -> float [0, 1] on ``device``, channels-last (faster convolutions on CPU)."""
    x = to_unit(images.to(device, non_blocking=True))
    return x.contiguous(memory_format=torch.channels_last)


@torch.inference_mode()
def evaluate(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int
) -> tuple[float, float]:
    """(mean cross-entropy, top-1 accuracy) of ``model`` in eval mode over uint8 ``images``."""
    model.eval()
    device = next(model.parameters()).device
    loss_sum, correct = 0.0, 0
    for start in range(0, labels.shape[0], batch_size):
        y = labels[start : start + batch_size].to(device)
        logits = model(to_input(images[start : start + batch_size], device))
        loss_sum += float(F.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
    n = max(int(labels.shape[0]), 1)
    return loss_sum / n, correct / n


@dataclass(frozen=True)
class TrainData:
    """uint8 images (N, C, H, W) and int64 labels (N,) of the training and validation splits."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor

    @classmethod
    def from_prepared(cls, data: Prepared) -> TrainData:
        """Zero-copy views of the prepared arrays."""
        return cls(
            torch.from_numpy(data.train.images),
            torch.from_numpy(data.train.labels),
            torch.from_numpy(data.val.images),
            torch.from_numpy(data.val.labels),
        )


def train_step(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    cfg: TrainParams,
    optimizer: Optimizer,
    generator: torch.Generator,
) -> tuple[torch.Tensor, int]:
    """One optimizer step on a uint8 batch; returns (detached loss, correct predictions)."""
    device = next(model.parameters()).device
    x = augment(to_input(images, device), cfg.augment, generator)
    y = labels.to(device)
    logits = model(x)
    loss = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.detach(), int((logits.argmax(1) == y).sum())


def train_epoch(
    model: nn.Module,
    data: TrainData,
    cfg: TrainParams,
    optimizer: Optimizer,
    generator: torch.Generator,
    desc: str,
) -> tuple[float, float, int]:
    """One pass over the training split; returns (mean loss, accuracy, images seen)."""
    model.train()
    n = data.train_labels.shape[0]
    loss_sum, correct, seen = torch.zeros((), dtype=torch.float64), 0, 0
    steps = max(n // cfg.batch_size, 1)
    for index in progress(batch_indices(n, cfg.batch_size, generator), total=steps, desc=desc):
        loss, right = train_step(
            model, data.train_images[index], data.train_labels[index], cfg, optimizer, generator
        )
        loss_sum += loss.double().cpu() * index.shape[0]
        correct += right
        seen += int(index.shape[0])
    return float(loss_sum) / seen, correct / seen, seen


def train_member(
    model: nn.Module,
    data: TrainData,
    cfg: TrainParams,
    seed: int,
    on_epoch: Callable[[EpochRecord], None] = lambda record: None,
    resume: Resume | None = None,
) -> list[EpochRecord]:
    """Train ``model`` in place for ``cfg.epochs``; shuffling and augmentation draw from ``seed``.

    With ``resume``, training continues after ``resume.start`` (when given) and hands its state to
    ``resume.save`` after every epoch, before ``on_epoch``; a resumed run ends bit for bit where an
    uninterrupted one would."""
    model.to(memory_format=torch.channels_last)
    generator = torch.Generator().manual_seed(seed)
    steps = cfg.epochs * max(data.train_labels.shape[0] // cfg.batch_size, 1)
    optimizer = Optimizer(model, cfg, steps)
    history: list[EpochRecord] = []
    if resume is not None and resume.start is not None:
        restore_run(resume.start, model, optimizer, generator)
        history = [EpochRecord(**row) for row in resume.start.values["history"]]
    for epoch in range(len(history) + 1, cfg.epochs + 1):
        lr = optimizer.lr
        start = time.perf_counter()
        loss, acc, seen = train_epoch(model, data, cfg, optimizer, generator, f"epoch {epoch}/{cfg.epochs}")
        rate = seen / (time.perf_counter() - start)
        val_loss, val_acc = evaluate(model, data.val_images, data.val_labels, cfg.eval_batch_size)
        record = EpochRecord(epoch, loss, acc, val_loss, val_acc, lr, rate)
        history.append(record)
        if resume is not None:
            resume.save(training_state(model, optimizer, generator, history))
        on_epoch(record)
    return history


def training_state(
    model: nn.Module, optimizer: Optimizer, generator: torch.Generator, history: list[EpochRecord]
) -> EpochState:
    """The state :func:`train_member` resumes from after ``len(history)`` epochs."""
    rows = [asdict(r) for r in history]
    return run_state(model, optimizer, generator, {"epoch": len(history), "history": rows})
