"""Just the test split of a prepared dataset (see :mod:`pipeline.io.prepared` for the layout): labels,
attributes and class names read in full, images memory-mapped, so the analysis stages never load the
training images (gigabytes at ImageNet scale)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


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
    """The test split, each file checked against the SHA-256 in meta.json (the images too: memory-mapped
    afterwards, but hashed in full first); a missing or damaged file is an InputCorrupt naming it."""
    from pipeline.data.base import DatasetCorrupt, DatasetUnavailable
    from pipeline.io.prepared import WRITER, open_recorded

    folder = Path(folder)
    if not (folder / "meta.json").is_file():
        raise DatasetUnavailable(
            f"{folder}: no prepared dataset (meta.json missing); run `dvc repro {WRITER}`"
        )
    recorded = open_recorded(folder)
    split = TestSplit(
        class_names=recorded.names("class_names"),
        attribute_names=recorded.names("attribute_names"),
        labels=recorded.required("test_labels.npy").astype(np.int64),
        attributes=recorded.array("test_attributes.npy"),
        images=recorded.required("test_images.npy", mmap=True),
    )
    n = split.labels.shape[0]
    shapes_agree = split.images.shape[0] == n and (
        split.attributes is None or split.attributes.shape == (n, len(split.attribute_names))
    )
    if not shapes_agree:
        raise DatasetCorrupt(
            f"{folder}: the test split's images, labels and attributes do not line up; rerun prepare"
        )
    return split
