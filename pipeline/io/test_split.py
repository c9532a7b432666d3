"""Just the test split of a prepared dataset (see :mod:`pipeline.io.prepared` for the layout): labels,
attributes and class names read in full, images memory-mapped, so the analysis stages never load the
training images (gigabytes at ImageNet scale)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.io.files import read_json


@dataclass(frozen=True)
class TestSplit:
    class_names: tuple[str, ...]
    attribute_names: tuple[str, ...]
    labels: np.ndarray  # (N,) int64
    attributes: np.ndarray | None  # (N, A) uint8 in {0, 1}
    images: np.ndarray  # (N, C, H, W) uint8, memory-mapped

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def load_test_split(folder: Path) -> TestSplit:
    from pipeline.data.base import DatasetCorrupt, DatasetUnavailable

    folder = Path(folder)
    try:
        meta = read_json(folder / "meta.json")
    except FileNotFoundError:
        raise DatasetUnavailable(
            f"{folder}: no prepared dataset (meta.json missing); run `dvc repro download`"
        ) from None
    attrs = folder / "test_attributes.npy"
    split = TestSplit(
        class_names=tuple(meta["class_names"]),
        attribute_names=tuple(meta["attribute_names"]),
        labels=np.load(folder / "test_labels.npy", allow_pickle=False).astype(np.int64),
        attributes=np.load(attrs, allow_pickle=False) if attrs.exists() else None,
        images=np.load(folder / "test_images.npy", mmap_mode="r", allow_pickle=False),
    )
    n = split.labels.shape[0]
    shapes_agree = split.images.shape[0] == n and (
        split.attributes is None or split.attributes.shape == (n, len(split.attribute_names))
    )
    if not shapes_agree:
        raise DatasetCorrupt(
            f"{folder}: the test split's images, labels and attributes do not line up; rerun download"
        )
    return split
