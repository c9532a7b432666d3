"""A config's cells' representations, layer by layer, against the dense members' (SPEC section 11).

On the fixed seeded sample of test images, every member's representations (pipeline.representations.
layers) are summarized once (pipeline.representations.similarity.summarize); the dense members' summaries
are the reference (stage ``representations_reference``, pipeline.representations.reference), against
which each config's cells are compared seed by seed (stage ``representations@config``), computing only
the config's own cells.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.config import ConfigError, RepresentationsParams, to_dict
from pipeline.errors import InputCorrupt
from pipeline.io.representations import WRITER, DenseReference
from pipeline.numbers import fmt
from pipeline.representations.similarity import Summary, compare, summary_from_arrays
from pipeline.sampling import sample_indices

if TYPE_CHECKING:
    import torch
    from torch import nn

MIN_SAMPLE = 4  # debiased CKA's unbiased HSIC needs n >= 4

Summaries = Mapping[str, Summary]  # layer -> summary, in layer order


def draw_sample(test_images: np.ndarray, cfg: RepresentationsParams) -> tuple[np.ndarray, torch.Tensor]:
    """The fixed seeded sample: its test indices (n,) and images (n, C, H, W) as floats in [0, 1]; a
    ConfigError when it is larger than the test split or smaller than ``MIN_SAMPLE``."""
    import torch

    from pipeline.pixels import to_unit

    index = sample_indices(len(test_images), cfg.sample_size, cfg.sample_seed, "representations.sample_size")
    if index.size < MIN_SAMPLE:
        raise ConfigError(
            f"representations.sample_size: need at least {MIN_SAMPLE} test images, got {index.size}"
        )
    return index, to_unit(torch.from_numpy(test_images[index]))


def summarize_member(model: nn.Module, images: torch.Tensor, keep: float) -> dict[str, Summary]:
    """Per layer (in order), ``model``'s representation on ``images``, summarized for comparison with
    SVCCA keeping ``keep`` of the variance."""
    from pipeline.representations.layers import capture, representation_layers
    from pipeline.representations.similarity import summarize

    layers = representation_layers(model)
    captured = capture(model, layers, images)
    return {name: summarize(captured.pop(name), keep) for name in layers}  # frees each as it goes


def check_layers(dense: Summaries, compressed: Summaries) -> None:
    """A ValueError when the two members' layers (names and widths, in order) differ."""
    shapes = [(name, s.width) for name, s in dense.items()]
    other = [(name, s.width) for name, s in compressed.items()]
    if shapes != other:
        raise ValueError(f"the compressed member's layers {other} differ from the dense member's {shapes}")


def layer_rows(seed: int, dense: Summaries, compressed: Summaries) -> list[dict[str, Any]]:
    """per_layer.csv's rows of one seed: each layer's similarities of the compressed member to the dense
    one, and the SVCCA dimensions each kept."""
    check_layers(dense, compressed)
    rows = []
    for layer, summary in dense.items():
        sim = compare(summary, compressed[layer])
        rows.append(
            {"seed": seed, "layer": layer, "units": summary.width}
            | {"linear_cka": sim.linear_cka, "debiased_cka": sim.debiased_cka, "svcca": sim.svcca}
            | {"svcca_dims_dense": sim.svcca_dims_x, "svcca_dims_compressed": sim.svcca_dims_y}
        )
    return rows


def config_rows(
    seeds: Sequence[int],
    dense: Callable[[int], Summaries],
    compressed: Callable[[int], Summaries] | None,
) -> list[dict[str, Any]]:
    """Every seed's :func:`layer_rows`, seed by seed (one seed's summaries in memory at a time);
    ``dense(seed)`` gives the reference's, ``compressed(seed)`` the cell's (None: the dense config,
    whose cells are the dense members)."""
    rows = []
    for seed in seeds:
        reference = dense(seed)
        rows += layer_rows(seed, reference, reference if compressed is None else compressed(seed))
    return rows


def cka_line(config: str, seed: int, rows: Sequence[Mapping[str, Any]]) -> str:
    """A seed's log line: the linear CKA of each layer."""
    layers = ", ".join(f"{r['layer']} {fmt(r['linear_cka'])}" for r in rows if r["seed"] == seed)
    return f"{config} seed {seed}: linear CKA {layers}"


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
    from pipeline.compression.load import load_model
    from pipeline.representations.activation_max import config_maximization

    def compressed(seed: int) -> dict[str, Summary]:
        assert cells is not None
        return summarize_member(load_model(cells[seed])[0], images, cfg.svcca_keep)

    rows = config_rows(
        reference.seeds, lambda seed: dense_summaries(reference, seed), None if cells is None else compressed
    )
    if reference.entry is None or reference.images is None:
        return rows, None, None
    first = reference.seeds[0]
    cell = None if cells is None else load_model(cells[first])[0]
    entry, found = config_maximization(
        reference.entry, reference.images, cell, lambda: load_model(dense_first)[0], cfg
    )
    return rows, entry, (reference.images, found)
