"""The layouts of the saliency stages' outputs, for their writers and every reader (the report included)::

    data/saliency_reference/              stage saliency_reference: the dense population, computed once
        reference.json                    the saliency params it depends on, the sample's example ids,
                                          seeds, each .npy's SHA-256
        maps/seed_<N>.npy                 (N, H, W) float32: the dense member of seed N, its maps
        floor/<measure>.npy               (pairs, N): a measure of every pair of dense seeds, per image,
                                          in its own dtype (the means are taken exactly as of fresh maps)
        floor.csv                         every pair of dense seeds: the measures averaged over images
    data/saliency/<config>.d/             stage saliency@config
        summary.json                      the config's measures against the dense reference
        per_image.csv                     seed x sample image: example id, true label, the measures
        examples.png                      (saliency.examples > 0) images, maps and their difference

A config's folder ends in ``.d`` so that no config name can make it the path of anything but another
config's folder.  The file names live here only; dvc.yaml passes the two stages' root folders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.errors import InputCorrupt
from pipeline.io.files import atomic_path, read_json, read_npy, save_npy, write_json
from pipeline.io.folders import replaced_folder
from pipeline.io.tables import write_table
from pipeline.saliency.metrics import METRICS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

IMAGE_COLUMNS = ["seed", "example_id", "label", "label_name", *METRICS]
FLOOR_COLUMNS = ["seed_a", "seed_b", *METRICS]
SUMMARY = "summary.json"
PER_IMAGE = "per_image.csv"
EXAMPLES = "examples.png"
REFERENCE = "reference.json"
FLOOR = "floor.csv"
FORMAT = 1
WRITER = "saliency_reference"

Pair = tuple[int, int]


@dataclass(frozen=True)
class DenseReference:
    """The dense population on the sample: ``maps`` seed -> (N, H, W) float32, in seed order; ``floor``
    pair of seeds -> measure -> (N,) per image, pairs in seed-pair order; ``example_ids`` (N,);
    ``params``: the saliency params it was made with (those it depends on)."""

    params: dict[str, Any]
    example_ids: np.ndarray
    maps: dict[int, np.ndarray]
    floor: dict[Pair, dict[str, np.ndarray]]


def _maps_file(seed: int) -> str:
    return f"maps/seed_{seed}.npy"


def _floor_file(measure: str) -> str:
    return f"floor/{measure}.npy"


def write_reference(root: Path, reference: DenseReference, floor_rows: Sequence[Mapping[str, Any]]) -> None:
    """The reference folder ``root`` (replaced as a whole on success); ``floor_rows``: floor.csv's rows."""
    pairs = list(reference.floor)
    with replaced_folder(root) as tmp:
        files = {_maps_file(seed): save_npy(tmp / _maps_file(seed), m) for seed, m in reference.maps.items()}
        for name in METRICS:
            stacked = np.stack([reference.floor[p][name] for p in pairs]) if pairs else np.empty((0, 0))
            files[_floor_file(name)] = save_npy(tmp / _floor_file(name), stacked)
        write_table(tmp / FLOOR, floor_rows, FLOOR_COLUMNS)
        meta = {
            "format": FORMAT,
            "params": reference.params,
            "seeds": list(reference.maps),
            "pairs": [list(p) for p in pairs],
            "example_ids": reference.example_ids.tolist(),
            "files": files,
        }
        write_json(tmp / REFERENCE, meta)


def read_reference(root: Path) -> DenseReference:
    """Inverse of :func:`write_reference`, each .npy checked against its recorded SHA-256; a missing,
    damaged or other-format file is an InputCorrupt naming it."""
    meta = read_json(root / REFERENCE, WRITER)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputCorrupt(f"{root / REFERENCE}: not a format-{FORMAT} reference; run `dvc repro {WRITER}`")
    try:
        files: dict[str, str] = meta["files"]

        def load(name: str) -> np.ndarray:
            return read_npy(root / name, files[name], WRITER)

        maps = {int(seed): load(_maps_file(seed)) for seed in meta["seeds"]}
        stacked = {name: load(_floor_file(name)) for name in METRICS}
        pairs = [(int(a), int(b)) for a, b in meta["pairs"]]
        floor = {p: {name: stacked[name][i] for name in METRICS} for i, p in enumerate(pairs)}
        return DenseReference(dict(meta["params"]), np.asarray(meta["example_ids"], np.int64), maps, floor)
    except (KeyError, TypeError, ValueError) as err:
        raise InputCorrupt(f"{root / REFERENCE}: incomplete [{err}]; run `dvc repro {WRITER}`") from None


@dataclass(frozen=True)
class SaliencyFolder:
    """``root``: the per-config stage's output folder (``data/saliency``), one folder per config."""

    root: Path

    def config(self, config: str) -> Path:
        return self.root / f"{config}.d"

    def summary(self, config: str) -> Path:
        return self.config(config) / SUMMARY

    def per_image(self, config: str) -> Path:
        return self.config(config) / PER_IMAGE

    def examples(self, config: str) -> Path:
        return self.config(config) / EXAMPLES

    def write(
        self,
        config: str,
        summary: Mapping[str, Any],
        rows: Sequence[Mapping[str, Any]],
        examples: Figure | None,
    ) -> None:
        """The config's folder, replaced as a whole on success; no examples.png when ``examples`` is None.
        The PNG carries no software version or time, so the same inputs give the same bytes."""
        with replaced_folder(self.config(config)) as tmp:
            write_json(tmp / SUMMARY, summary)
            write_table(tmp / PER_IMAGE, rows, IMAGE_COLUMNS)
            if examples is not None:
                with atomic_path(tmp / EXAMPLES) as png:
                    examples.savefig(png, format="png", metadata={"Software": None})

    def read_summary(self, config: str, required: bool = True) -> Any:
        """The config's summary.json; None when it is missing and not ``required``."""
        path = self.summary(config)
        return read_json(path, f"saliency@{config}") if required or path.is_file() else None

    def examples_image(self, config: str) -> Path | None:
        """The config's examples.png, or None when it drew none."""
        path = self.examples(config)
        return path if path.is_file() else None
