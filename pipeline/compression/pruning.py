"""Pruning as three small pure steps, ShrinkBench style: scores -> threshold -> masks (SPEC section 5.1).

A scorer maps each prunable weight tensor to a score tensor of its shape (higher = keep); the threshold
step keeps an exact count of the highest scores, per tensor (``layer``, Hooker et al. 2019) or over all
prunable tensors at once (``global``, Schwaiger et al. 2021); a mask is a bool tensor of the weight's shape,
True = keep.  Every pruner follows one calling convention, ``compute_masks(model, spec, ...) -> masks``.
During fine-tuning a :class:`MaskKeeper` re-applies fixed masks after each optimizer step, and a
:class:`GradualPruner` raises the sparsity along the cubic schedule of Zhu & Gupta (2017).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import torch
from torch import nn

from pipeline.compression.report import SparsityReport, TensorSparsity
from pipeline.config import PruneSpec
from pipeline.models.layers import weight_layers

Scorer = Callable[[dict[str, torch.Tensor], torch.Generator], dict[str, torch.Tensor]]
Masks = dict[str, torch.Tensor]  # parameter name -> bool tensor of the weight's shape, True = keep


# ------------------------------------------------------------------------------------ what can be pruned


def prunable(model: nn.Module, include_classifier: bool = False) -> dict[str, nn.Parameter]:
    """The weights of every Conv2d and Linear, in module order, keyed by their ``named_parameters`` name.

    The last Conv2d/Linear in ``model.modules()`` order is the final classifier (``classifier`` in our
    nets, ``classifier.1`` in SqueezeNet, ``fc``/``head`` in timm) and is left dense unless
    ``include_classifier``, as in Hooker et al., who prune every conv (first conv and shortcut
    projections included) but not the final FC.  Biases and normalization parameters are never pruned.
    """
    layers = weight_layers(model)
    if not include_classifier:
        layers = layers[:-1]
    return {f"{name}.weight" if name else "weight": cast(nn.Parameter, m.weight) for name, m in layers}


# ------------------------------------------------------------------------------------------------ scores


def magnitude_scores(weights: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, torch.Tensor]:
    """|w|: the smallest weights go first (Han et al. 2015; Zhu & Gupta 2017)."""
    return {name: w.abs() for name, w in weights.items()}


def random_scores(weights: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Uniform noise from ``generator`` (drawn on the CPU in dict order, so a seed fixes the masks): the
    control that tells whether magnitude pruning's damage is specific to the weights it removes."""
    return {n: torch.rand(w.shape, generator=generator).to(w.device) for n, w in weights.items()}


def channel_l1_scores(
    weights: dict[str, torch.Tensor], generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """L1 norm of each output channel (row of dim 0), broadcast over the channel (Li et al. 2017)."""
    scores = {}
    for name, w in weights.items():
        l1 = w.abs().reshape(w.shape[0], -1).sum(1)  # (C_out,)
        scores[name] = l1.reshape(-1, *[1] * (w.dim() - 1)).expand_as(w)  # (C_out, ...) like w
    return scores


SCORERS: dict[str, Scorer] = {
    "magnitude": magnitude_scores,
    "random": random_scores,
    "structured": channel_l1_scores,
}
CHANNELWISE = frozenset({"structured"})  # scorers whose masks keep or drop whole output channels
SCOPES = ("layer", "global")


def scorer(method: str) -> Scorer:
    if method not in SCORERS:
        raise KeyError(f"unknown pruning method {method!r}; allowed: {', '.join(SCORERS)}")
    return SCORERS[method]


# ------------------------------------------------------------------------------------- threshold -> masks


def keep_count(n: int, sparsity: float) -> int:
    """How many of ``n`` entries survive: ``round(n * (1 - sparsity))`` (Python's half-to-even round)."""
    return round(n * (1.0 - sparsity))


def top_mask(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Bool mask of ``scores``' shape keeping exactly its ``k`` largest entries; ties go to the lower flat
    index (a stable sort), so the count is exact and the mask deterministic even among equal scores."""
    flat = scores.flatten()  # (n,)
    order = torch.sort(flat, descending=True, stable=True).indices
    keep = torch.zeros_like(flat, dtype=torch.bool)
    keep[order[:k]] = True
    return keep.reshape(scores.shape)


def channel_mask(scores: torch.Tensor, sparsity: float) -> torch.Tensor:
    """Keep exactly ``keep_count(C_out, sparsity)`` whole output channels: those with the largest summed
    scores (for broadcast channel scores, the largest channel score); ties go to the lower channel."""
    per_channel = scores.reshape(scores.shape[0], -1).sum(1)  # (C_out,)
    keep = top_mask(per_channel, keep_count(per_channel.numel(), sparsity))
    return keep.reshape(-1, *[1] * (scores.dim() - 1)).expand(scores.shape).clone()


def masks_from_scores(
    scores: dict[str, torch.Tensor], sparsity: float, scope: str, channels: bool = False
) -> Masks:
    """Bool masks (True = keep) that prune exactly ``sparsity`` of the entries, up to rounding.

    ``layer``: each tensor of n entries keeps its ``keep_count(n, sparsity)`` largest scores.
    ``global``: one threshold over all tensors; exactly ``keep_count(N_total, sparsity)`` survive.
    ``channels``: whole output channels are kept or dropped, per tensor (layer scope only: L1 norms of
    layers with different fan-in are not comparable).
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
    if scope not in SCOPES:
        raise KeyError(f"unknown pruning scope {scope!r}; allowed: {', '.join(SCOPES)}")
    if channels and scope != "layer":
        raise ValueError("channel pruning ranks channels within each layer; use scope layer")
    if channels:
        return {name: channel_mask(s, sparsity) for name, s in scores.items()}
    if scope == "layer":
        return {name: top_mask(s, keep_count(s.numel(), sparsity)) for name, s in scores.items()}
    flat = torch.cat([s.flatten() for s in scores.values()])  # (N_total,)
    keep = top_mask(flat, keep_count(flat.numel(), sparsity)).split([s.numel() for s in scores.values()])
    return {name: k.reshape(s.shape) for (name, s), k in zip(scores.items(), keep, strict=True)}


def compute_masks(
    model: nn.Module,
    spec: PruneSpec,
    sparsity: float,
    generator: torch.Generator,
    previous: Masks | None = None,
) -> Masks:
    """Masks for ``prunable(model, spec.include_classifier)`` at ``sparsity`` (passed apart from
    ``spec.sparsity`` so the gradual schedule can ask for intermediate levels), scored on the current
    weights with ``spec.method`` and thresholded with ``spec.scope``.

    With ``previous`` masks, entries they prune score -inf and rank last, so the new masks are nested in
    the old ones and sparsity never decreases (a pruned weight stays pruned, as in Zhu & Gupta).
    """
    score = scorer(spec.method)
    weights = {name: p.detach() for name, p in prunable(model, spec.include_classifier).items()}
    scores = score(weights, generator)
    if previous is not None:
        scores = {n: s.masked_fill(~previous[n], float("-inf")) for n, s in scores.items()}
    return masks_from_scores(scores, sparsity, spec.scope, channels=spec.method in CHANNELWISE)


def apply_masks(model: nn.Module, masks: Masks) -> None:
    """Zero, in place, every parameter entry its mask prunes (exactly +0.0, whatever the weight was)."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, mask in masks.items():
            params[name].masked_fill_(~mask, 0.0)


def sparsity_report(model: nn.Module, names: list[str]) -> SparsityReport:
    """Exact zeros per named parameter, and over all of them (zeros / numel)."""
    params = dict(model.named_parameters())
    tensors = {
        name: TensorSparsity.of(params[name].numel(), int((params[name] == 0).sum())) for name in names
    }
    numel = sum(t.numel for t in tensors.values())
    zeros = sum(t.zeros for t in tensors.values())
    return SparsityReport(tensors, TensorSparsity.of(numel, zeros))


# ------------------------------------------------------------------------------------------- schedules


def gradual_sparsity(step: int, initial: float, final: float, start: int, end: int) -> float:
    """Zhu & Gupta (2017): s(t) = s_f + (s_i - s_f) (1 - p)^3, p = clip((t - start) / (end - start), 0, 1).

    ``initial`` before ``start``, ``final`` from ``end`` on (also when ``end == start``).
    """
    if step >= end:
        return final
    if step <= start:
        return initial
    p = (step - start) / (end - start)
    return final + (initial - final) * (1.0 - p) ** 3


class MaskKeeper:
    """Fixed masks kept in force during fine-tuning: call :meth:`after_step` after every optimizer step, so
    masked weights are exactly zero again despite momentum and weight decay having moved them."""

    def __init__(self, model: nn.Module, masks: Masks) -> None:
        self.model = model
        self.masks = masks

    def keep(self) -> None:
        apply_masks(self.model, self.masks)

    def after_step(self, step: int) -> None:
        """``step``: the 0-based index of the optimizer step just taken (unused: the masks are fixed)."""
        self.keep()


class GradualPruner(MaskKeeper):
    """Gradual magnitude (or random, or channel) pruning, Zhu & Gupta (2017), during fine-tuning.

    On construction the model is pruned to ``spec.initial_sparsity`` (step 0 of the schedule).  After the
    optimizer step of 0-based index ``step``, ``t = step + 1`` steps are done; every ``spec.frequency``
    steps, and at the window end ``t_end = max(1, round(spec.end_fraction * steps_total))``, the masks
    are recomputed from the current weights at ``gradual_sparsity(t, s_i, s_f, 0, t_end)``, nested in the
    previous ones; otherwise the current masks are re-applied.  From ``t_end`` on the sparsity is
    exactly ``spec.sparsity`` (within per-tensor rounding).
    """

    def __init__(
        self, model: nn.Module, spec: PruneSpec, steps_total: int, generator: torch.Generator
    ) -> None:
        if steps_total < 1:
            raise ValueError(f"steps_total must be >= 1, got {steps_total}")
        self.spec = spec
        self.generator = generator
        self.end = min(steps_total, max(1, round(spec.end_fraction * steps_total)))
        super().__init__(model, compute_masks(model, spec, spec.initial_sparsity, generator))
        self.keep()

    def target(self, done: int) -> float:
        """Sparsity after ``done`` optimizer steps."""
        return gradual_sparsity(done, self.spec.initial_sparsity, self.spec.sparsity, 0, self.end)

    def after_step(self, step: int) -> None:
        done = step + 1
        if done <= self.end and (done % self.spec.frequency == 0 or done == self.end):
            self.masks = compute_masks(self.model, self.spec, self.target(done), self.generator, self.masks)
        self.keep()


def start_pruning(
    model: nn.Module, spec: PruneSpec, steps_total: int, generator: torch.Generator
) -> MaskKeeper:
    """Prune ``model`` in place as ``spec.schedule`` starts and return the hook to call after each
    optimizer step: a :class:`GradualPruner` for ``gradual``, else a :class:`MaskKeeper` holding masks at
    ``spec.sparsity`` (for ``oneshot`` nothing trains, so the hook is simply not called)."""
    if spec.schedule == "gradual":
        return GradualPruner(model, spec, steps_total, generator)
    keeper = MaskKeeper(model, compute_masks(model, spec, spec.sparsity, generator))
    keeper.keep()
    return keeper
