"""The dense reference of the representations stages, made once and read by every config (stage
``representations_reference``, SPEC section 11): the dense members' summarized representations, their noise
floor between every pair of seeds and the first seed's activation maximization."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.analysis.floor import over_pairs
from pipeline.config import RepresentationsParams, to_dict
from pipeline.io.representations import DenseReference
from pipeline.numbers import fmt
from pipeline.representations.compare import Summaries, draw_sample, summarize_member
from pipeline.representations.similarity import Summary, compare, summary_arrays
from pipeline.representations.summary import floor_means

if TYPE_CHECKING:
    import torch


def summarize_population(
    checkpoints: Mapping[int, Path], images: torch.Tensor, keep: float
) -> dict[int, dict[str, Summary]]:
    """Each seed's member's summaries (:func:`summarize_member`), in seed order."""
    from pipeline.compression.load import load_model

    return {seed: summarize_member(load_model(path)[0], images, keep) for seed, path in checkpoints.items()}


def floor_rows(dense: Mapping[int, Summaries]) -> list[dict[str, Any]]:
    """The noise floor's rows: every pair of dense seeds (seed-pair order), every layer, their
    similarities."""
    pairs = over_pairs(dense, lambda a, b: {layer: compare(a[layer], b[layer]) for layer in a})
    return [
        {"seed_a": a, "seed_b": b, "layer": layer}
        | {"linear_cka": sim.linear_cka, "debiased_cka": sim.debiased_cka, "svcca": sim.svcca}
        for (a, b), sims in pairs.items()
        for layer, sim in sims.items()
    ]


@dataclass(frozen=True)
class Stored:
    """What the reference stage writes: the reference, every seed's summaries as arrays (seed -> layer
    -> name -> array) and the noise floor's rows."""

    reference: DenseReference
    arrays: dict[int, dict[str, dict[str, np.ndarray]]]
    floor: list[dict[str, Any]]


def dense_reference(
    checkpoints: Mapping[int, Path], test_images: np.ndarray, cfg: RepresentationsParams
) -> Stored:
    """The dense members (``checkpoints``: seed -> dense cell) on the sample: every seed's summaries,
    the noise floor and the first seed's activation maximization (none with ``representations.units``
    0)."""
    from pipeline.compression.load import load_model
    from pipeline.representations.activation_max import dense_maximization

    ids, images = draw_sample(test_images, cfg)
    summaries = summarize_population(checkpoints, images, cfg.svcca_keep)
    floor = floor_rows(summaries)
    first = next(iter(checkpoints))
    layers = {name: s.width for name, s in summaries[first].items()}
    entry, pictures = None, None
    if cfg.units > 0:
        shape = test_images.shape[1:]  # (C, H, W)
        entry, pictures = dense_maximization(load_model(checkpoints[first])[0], cfg, first, shape)
    means = floor_means(list(layers), floor)
    reference = DenseReference(to_dict(cfg), ids, list(checkpoints), layers, means, entry, pictures)
    arrays = {
        seed: {name: summary_arrays(s) for name, s in layers_of.items()}
        for seed, layers_of in summaries.items()
    }
    return Stored(reference, arrays, floor)


def reference_line(reference: DenseReference) -> str:
    """The reference's log line: its size and the logits' noise floor."""
    last = list(reference.floor_means.values())[-1]
    return (
        f"dense: {len(reference.seeds)} members, {reference.example_ids.size} images, "
        f"{len(reference.layers)} layers; logits linear CKA floor {fmt(last['floor_linear_cka'])}"
    )
