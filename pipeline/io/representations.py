"""The layouts of the representations stages' outputs, for their writers and every reader (the report
included)::

    data/representations_reference/         stage representations_reference: the dense population, once
        reference.json                      its representations params, the sample's example ids, seeds,
                                            layers and their widths, the noise floor's means per layer,
                                            the first seed's activation maximization entry (or null),
                                            each .npy's SHA-256
        seed_<N>/<layer>.<array>.npy        the dense member of seed N: its summarized representation of
                                            each layer (pipeline.representations.similarity.summary_arrays)
        floor.csv                           per pair of dense seeds and layer: their similarities
        activation_max.npy                  (U, C, H, W) float32: the first seed's maximizing images
    data/representations/<config>.d/        stage representations@config
        summary.json                        per layer: the config's similarities to the dense members
        per_layer.csv                       per seed and layer: the same before the mean over seeds
        activation_max.png                  (representations.units > 0) dense images above, the config's below

A config's folder ends in ``.d`` so that no config name can make it the path of anything but another
config's folder.  The file names live here only; dvc.yaml passes the two stages' root folders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.errors import InputCorrupt
from pipeline.io.files import atomic_path, read_json, read_npy, save_npy, write_json
from pipeline.io.folders import replaced_folder
from pipeline.io.tables import write_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PER_LAYER_COLUMNS = [
    *("seed", "layer", "units", "linear_cka", "debiased_cka", "svcca"),
    *("svcca_dims_dense", "svcca_dims_compressed"),
]
FLOOR_COLUMNS = ["seed_a", "seed_b", "layer", "linear_cka", "debiased_cka", "svcca"]
SUMMARY = "summary.json"
PER_LAYER = "per_layer.csv"
ACTIVATION_MAX = "activation_max.png"
REFERENCE = "reference.json"
FLOOR = "floor.csv"
IMAGES = "activation_max.npy"
FORMAT = 1
WRITER = "representations_reference"
DPI = 100

Arrays = Mapping[str, np.ndarray]  # one layer's summary as arrays: name -> array


@dataclass(frozen=True)
class DenseReference:
    """What the dense reference holds besides the summaries, which :meth:`arrays` reads a seed at a time:
    ``example_ids`` (n,), ``seeds``, ``layers`` (name -> width, in order), ``floor_means`` (layer ->
    ``floor_<similarity>``), the activation maximization ``entry`` and ``images`` (None without units);
    ``params``: the representations params it was made with."""

    params: dict[str, Any]
    example_ids: np.ndarray
    seeds: list[int]
    layers: dict[str, int]
    floor_means: dict[str, dict[str, float | None]]
    entry: dict[str, Any] | None
    images: np.ndarray | None
    root: Path | None = None
    files: dict[str, str] = field(default_factory=dict)

    def arrays(self, seed: int) -> dict[str, dict[str, np.ndarray]]:
        """The dense member of ``seed``: layer -> its summary's arrays, each checked against its SHA-256."""
        if self.root is None:
            raise ValueError("a reference not read from disk has no stored arrays")
        root, prefix = self.root, f"seed_{seed}/"
        out: dict[str, dict[str, np.ndarray]] = {layer: {} for layer in self.layers}
        for name, sha in self.files.items():
            if name.startswith(prefix):
                layer, array = name[len(prefix) : -len(".npy")].rsplit(".", 1)
                out[layer][array] = read_npy(root / name, sha, WRITER)
        if not all(out.values()):
            missing = f"records no arrays of seed {seed}"
            raise InputCorrupt(f"{root / REFERENCE}: {missing}; run `dvc repro {WRITER}`")
        return out


def write_reference(
    root: Path,
    reference: DenseReference,
    summaries: Mapping[int, Mapping[str, Arrays]],
    floor_rows: Sequence[Mapping[str, Any]],
) -> None:
    """The reference folder ``root`` (replaced as a whole on success): ``summaries`` seed -> layer ->
    arrays, ``floor_rows`` floor.csv's rows."""
    with replaced_folder(root) as tmp:
        files = {
            f"seed_{seed}/{layer}.{name}.npy": save_npy(tmp / f"seed_{seed}/{layer}.{name}.npy", array)
            for seed, layers in summaries.items()
            for layer, arrays in layers.items()
            for name, array in arrays.items()
        }
        if reference.images is not None:
            files[IMAGES] = save_npy(tmp / IMAGES, reference.images)
        write_table(tmp / FLOOR, floor_rows, FLOOR_COLUMNS)
        meta = {
            "format": FORMAT,
            "params": reference.params,
            "example_ids": reference.example_ids.tolist(),
            "seeds": list(reference.seeds),
            "layers": reference.layers,
            "floor_means": reference.floor_means,
            "activation_max": reference.entry,
            "files": files,
        }
        write_json(tmp / REFERENCE, meta)


def read_reference(root: Path) -> DenseReference:
    """Inverse of :func:`write_reference` but for the summaries (:meth:`DenseReference.arrays`); a missing,
    damaged or other-format file is an InputCorrupt naming it."""
    meta = read_json(root / REFERENCE, WRITER)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputCorrupt(f"{root / REFERENCE}: not a format-{FORMAT} reference; run `dvc repro {WRITER}`")
    try:
        files = {str(k): str(v) for k, v in meta["files"].items()}
        entry = meta["activation_max"]
        return DenseReference(
            params=dict(meta["params"]),
            example_ids=np.asarray(meta["example_ids"], dtype=np.int64),
            seeds=[int(s) for s in meta["seeds"]],
            layers={str(k): int(v) for k, v in meta["layers"].items()},
            floor_means=meta["floor_means"],
            entry=entry,
            images=None if entry is None else read_npy(root / IMAGES, files[IMAGES], WRITER),
            root=root,
            files=files,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InputCorrupt(f"{root / REFERENCE}: incomplete [{err}]; run `dvc repro {WRITER}`") from None


@dataclass(frozen=True)
class RepresentationsFolder:
    """``root``: the per-config stage's output folder (``data/representations``), one folder per config."""

    root: Path

    def config(self, config: str) -> Path:
        return self.root / f"{config}.d"

    def summary(self, config: str) -> Path:
        return self.config(config) / SUMMARY

    def per_layer(self, config: str) -> Path:
        return self.config(config) / PER_LAYER

    def activation_max(self, config: str) -> Path:
        return self.config(config) / ACTIVATION_MAX

    def write(
        self,
        config: str,
        summary: Mapping[str, Any],
        rows: Sequence[Mapping[str, Any]],
        activation_max: Figure | None,
    ) -> None:
        """The config's folder, replaced as a whole on success; no activation_max.png when
        ``activation_max`` is None.  The PNG carries no software version or time."""
        with replaced_folder(self.config(config)) as tmp:
            write_json(tmp / SUMMARY, summary)
            write_table(tmp / PER_LAYER, rows, PER_LAYER_COLUMNS)
            if activation_max is not None:
                with atomic_path(tmp / ACTIVATION_MAX) as png:
                    activation_max.savefig(png, format="png", dpi=DPI, metadata={"Software": None})

    def read_summary(self, config: str, required: bool = True) -> Any:
        """The config's summary.json; None when it is missing and not ``required``."""
        path = self.summary(config)
        return read_json(path, f"representations@{config}") if required or path.is_file() else None

    def activation_image(self, config: str) -> Path | None:
        """The config's activation_max.png, or None when it drew none."""
        path = self.activation_max(config)
        return path if path.is_file() else None
