"""The dense reference of the representations stages, made once and read by every config (SPEC section 11):
the dense members' summarized representations, their noise floor and the first seed's activation
maximization (stage ``representations_reference``); and a config's comparison against it (stage
``representations@config``), which computes only the config's own cells."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.config import RepresentationsParams, to_dict
from pipeline.errors import InputCorrupt
from pipeline.io.representations import WRITER, DenseReference
from pipeline.numbers import fmt
from pipeline.representations.compare import (
    config_rows,
    draw_sample,
    floor_rows,
    summarize_member,
    summarize_population,
)
from pipeline.representations.similarity import Summary, summary_arrays, summary_from_arrays
from pipeline.representations.summary import floor_means

if TYPE_CHECKING:
    import torch


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
    from pipeline.compression.members import load_member
    from pipeline.representations.activation_max import dense_maximization

    ids, images = draw_sample(test_images, cfg)
    summaries = summarize_population(checkpoints, images, cfg.svcca_keep)
    floor = floor_rows(summaries)
    first = next(iter(checkpoints))
    layers = {name: s.width for name, s in summaries[first].items()}
    entry, pictures = None, None
    if cfg.units > 0:
        shape = test_images.shape[1:]  # (C, H, W)
        entry, pictures = dense_maximization(load_member(checkpoints[first])[0], cfg, first, shape)
    means = floor_means(list(layers), floor)
    reference = DenseReference(to_dict(cfg), ids, list(checkpoints), layers, means, entry, pictures)
    arrays = {
        seed: {name: summary_arrays(s) for name, s in layers_of.items()}
        for seed, layers_of in summaries.items()
    }
    return Stored(reference, arrays, floor)


def check_reference(
    reference: DenseReference, cfg: RepresentationsParams, ids: np.ndarray, seeds: Sequence[int]
) -> None:
    """An InputCorrupt when the reference was made with other representations params, another sample or
    other seeds than the params ask for (a reference left from other params: rerun its stage; under DVC
    it never is)."""
    made = (reference.params, reference.example_ids.tolist(), reference.seeds)
    if made != (to_dict(cfg), ids.tolist(), list(seeds)):
        raise InputCorrupt(
            f"{reference.root}: made with representations {reference.params}, seeds {reference.seeds} and "
            f"{reference.example_ids.size} sampled images, not with the params' representations "
            f"{to_dict(cfg)}, seeds {list(seeds)} and {ids.size}; run `dvc repro {WRITER}`"
        )


def dense_summaries(reference: DenseReference, seed: int) -> dict[str, Summary]:
    """The dense member of ``seed``: its summaries, rebuilt bit for bit from the reference's arrays."""
    arrays = reference.arrays(seed)
    return {layer: summary_from_arrays(width, arrays[layer]) for layer, width in reference.layers.items()}


def compare_config(
    reference: DenseReference,
    cells: Mapping[int, Path] | None,
    dense_first: Path,
    images: torch.Tensor,
    cfg: RepresentationsParams,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, tuple[np.ndarray, np.ndarray] | None]:
    """A config's per_layer.csv rows, activation maximization entry and images (dense, compressed)
    against the reference; ``cells`` seed -> the config's cell (None: the dense config, whose cells are
    the dense members); ``dense_first``: the first seed's dense member, loaded only to be shown the
    cell's maximizing images."""
    from pipeline.compression.members import load_member
    from pipeline.representations.activation_max import config_maximization

    def compressed(seed: int) -> dict[str, Summary]:
        assert cells is not None
        return summarize_member(load_member(cells[seed])[0], images, cfg.svcca_keep)

    rows = config_rows(
        reference.seeds, lambda seed: dense_summaries(reference, seed), None if cells is None else compressed
    )
    if reference.entry is None or reference.images is None:
        return rows, None, None
    first = reference.seeds[0]
    cell = None if cells is None else load_member(cells[first])[0]
    entry, found = config_maximization(
        reference.entry, reference.images, cell, lambda: load_member(dense_first)[0], cfg
    )
    return rows, entry, (reference.images, found)


def reference_line(reference: DenseReference) -> str:
    """The reference's log line: its size and the logits' noise floor."""
    last = list(reference.floor_means.values())[-1]
    return (
        f"dense: {len(reference.seeds)} members, {reference.example_ids.size} images, "
        f"{len(reference.layers)} layers; logits linear CKA floor {fmt(last['floor_linear_cka'])}"
    )
