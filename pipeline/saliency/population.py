"""The saliency maps of a population on the fixed sample (SPEC section 9): one member per seed, each
explaining the same seeded test images with respect to their true labels.

The dense population's maps and their noise floor are computed once (stage ``saliency_reference``); each
config's stage computes only its own cells' maps and compares them with the reference, seed by seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.config import ConfigError, SaliencyParams
from pipeline.sampling import sample_indices

if TYPE_CHECKING:
    from pipeline.io.checkpoints import CheckpointMeta
    from pipeline.io.saliency import DenseReference

FLOAT_QUANT = ("fp16", "bf16")  # rounded weights, float computation: no fake-quantized activations


@dataclass(frozen=True)
class Sample:
    """The fixed seeded sample: ``ids`` (N,) sorted test indices, ``images`` (N, C, H, W) uint8 and
    ``labels`` (N,) their true labels, the targets every model explains."""

    ids: np.ndarray
    images: np.ndarray
    labels: np.ndarray


def draw_sample(images: np.ndarray, labels: np.ndarray, cfg: SaliencyParams) -> Sample:
    """``saliency.sample_size`` test images drawn with ``saliency.sample_seed`` (0: all of them); a
    ConfigError when the sample or ``saliency.examples`` asks for more images than there are."""
    ids = sample_indices(len(labels), cfg.sample_size, cfg.sample_seed, "saliency.sample_size")
    if cfg.examples > len(ids):
        raise ConfigError(f"saliency.examples: {cfg.examples} is more than the {len(ids)} sampled images")
    return Sample(ids, np.asarray(images[ids]), np.asarray(labels[ids]))


def straight_through(meta: CheckpointMeta) -> bool:
    """Whether the cell's gradients pass fake-quantized activations (integer quantization): the
    straight-through estimator; fp16/bf16 cells and unquantized ones have exact gradients."""
    spec = meta.quant_spec
    return spec is not None and spec.method not in FLOAT_QUANT


def population_maps(
    checkpoints: Mapping[int, Path], sample: Sample, cfg: SaliencyParams
) -> tuple[dict[int, np.ndarray], bool]:
    """Each seed's member's maps (N, H, W) float32 of ``sample`` for its true labels, by
    ``saliency.method``; and whether any member's gradients pass a straight-through estimator."""
    import torch

    from pipeline.compression.load import load_model
    from pipeline.pixels import to_unit
    from pipeline.saliency.maps import saliency_maps

    images = to_unit(torch.from_numpy(sample.images))  # (N, C, H, W) in [0, 1]
    targets = torch.from_numpy(sample.labels)
    maps: dict[int, np.ndarray] = {}
    through = False
    for seed, path in checkpoints.items():
        model, meta = load_model(path)
        maps[seed] = saliency_maps(model, images, targets, cfg.method, steps=cfg.steps)
        through |= straight_through(meta)
    return maps, through


def made_with(cfg: SaliencyParams) -> dict[str, Any]:
    """The saliency params the dense reference depends on (all but ``examples``, drawn per config)."""
    from pipeline.config import to_dict

    return {key: value for key, value in to_dict(cfg).items() if key != "examples"}


def check_reference(
    reference: DenseReference, root: Path, cfg: SaliencyParams, ids: np.ndarray, seeds: Sequence[int]
) -> None:
    """An InputCorrupt naming ``root`` when the dense reference was made with other saliency params,
    another sample or other seeds than the params ask for (a reference left from other params: rerun
    its stage; under DVC it never is)."""
    from pipeline.errors import InputCorrupt

    made = (reference.params, list(reference.maps), reference.example_ids.tolist())
    if made != (made_with(cfg), list(seeds), ids.tolist()):
        raise InputCorrupt(
            f"{root}: made with saliency {reference.params}, seeds {list(reference.maps)} and "
            f"{reference.example_ids.size} sampled images, not with the params' saliency {made_with(cfg)}, "
            f"seeds {list(seeds)} and {ids.size}; run `dvc repro saliency_reference`"
        )
