"""From a loader's raw dataset to the prepared form: a stratified validation carve-out and a checksum.

The test split is kept as the files define it: it is never used for training, calibration or selection.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.config import ConfigError, PrepareParams
from pipeline.data.base import RawDataset, Split

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Prepared:
    """The dataset every stage after ``prepare`` reads; ``sha256`` identifies its exact content."""

    name: str
    class_names: tuple[str, ...]
    attribute_names: tuple[str, ...]
    train: Split
    val: Split
    test: Split
    sha256: str
    source: str

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every image."""
        c, h, w = self.test.images.shape[1:]
        return int(c), int(h), int(w)

    def split(self, name: str) -> Split:
        return {"train": self.train, "val": self.val, "test": self.test}[name]


def val_indices(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of a stratified random ``fraction`` of ``labels`` (per class, rounded)."""
    rng = np.random.default_rng(seed)
    chosen = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        take = round(fraction * members.size)
        chosen.append(rng.choice(members, size=take, replace=False))
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def subset(split: Split, index: np.ndarray) -> Split:
    attributes = None if split.attributes is None else split.attributes[index]
    return Split(np.ascontiguousarray(split.images[index]), split.labels[index], attributes)


def content_sha256(splits: dict[str, Split], class_names: tuple[str, ...]) -> str:
    """SHA-256 over every array's bytes, dtype and shape, and the class names, in a fixed order."""
    digest = hashlib.sha256("\n".join(class_names).encode())
    for name in SPLITS:
        split = splits[name]
        for array in (split.images, split.labels, split.attributes):
            if array is None:
                digest.update(b"none")
                continue
            digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def prepare(raw: RawDataset, val_fraction: float, split_seed: int) -> Prepared:
    """Carve a stratified validation split out of ``raw.train`` and checksum the result."""
    val_idx = val_indices(raw.train.labels, val_fraction, split_seed)
    keep = np.setdiff1d(np.arange(len(raw.train)), val_idx)
    splits = {"train": subset(raw.train, keep), "val": subset(raw.train, val_idx), "test": raw.test}
    digest = content_sha256(splits, raw.class_names)
    return Prepared(
        raw.name, raw.class_names, raw.attribute_names, **splits, sha256=digest, source=raw.source
    )


def source(cfg: PrepareParams, raw: Path) -> tuple[Path, PrepareParams]:
    """The folder the dataset's files are read from (``prepare.root``, else ``raw``, where downloads go),
    and the settings to read it with: a folder of the user's is only read, never downloaded into."""
    if cfg.root is None:
        return raw, cfg
    if not Path(cfg.root).is_dir():  # a typo must not make a new folder that torchvision then fills
        raise ConfigError(
            f"prepare.root: no folder {cfg.root!r}; use null for data/raw, or an existing folder"
        )
    return Path(cfg.root), dataclasses.replace(cfg, allow_download=False)


def summary_line(data: Prepared, seconds: float) -> str:
    from pipeline.numbers import fmt

    sizes = ", ".join(f"{name} {len(data.split(name))}" for name in SPLITS)
    shape = "x".join(map(str, data.image_shape))
    return (
        f"{data.name} from {data.source}: {sizes} images of {shape}, {data.num_classes} classes, "
        f"sha256 {data.sha256[:12]}… ({fmt(seconds, 1)} s)"
    )
