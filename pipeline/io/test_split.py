"""Just the test split of a prepared dataset (see :mod:`pipeline.io.prepared` for the layout): labels,
attributes and class names read in full, images memory-mapped, so the analysis stages never load the
training images (gigabytes at ImageNet scale)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import InputCorrupt
from pipeline.io.files import read_json, read_npy


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
    from pipeline.io.prepared import WRITER, recorded_files

    folder = Path(folder)
    if not (folder / "meta.json").is_file():
        raise DatasetUnavailable(
            f"{folder}: no prepared dataset (meta.json missing); run `dvc repro {WRITER}`"
        )
    meta = read_json(folder / "meta.json", WRITER)
    files = recorded_files(folder, meta)
    missing = sorted({"test_images.npy", "test_labels.npy"} - set(files))
    if missing:
        raise InputCorrupt(
            f"{folder / 'meta.json'}: records no SHA-256 of {', '.join(missing)}; rerun `dvc repro {WRITER}`"
        )

    def array(file: str, mmap: bool = False) -> np.ndarray | None:
        return read_npy(folder / file, files[file], WRITER, mmap=mmap) if file in files else None

    try:
        class_names, attribute_names = tuple(meta["class_names"]), tuple(meta["attribute_names"])
    except (KeyError, TypeError) as err:
        raise InputCorrupt(
            f"{folder / 'meta.json'}: lacks or garbles {err}; rerun `dvc repro {WRITER}`"
        ) from None
    labels, images = array("test_labels.npy"), array("test_images.npy", mmap=True)
    assert labels is not None and images is not None  # both recorded, checked above
    split = TestSplit(
        class_names=class_names,
        attribute_names=attribute_names,
        labels=labels.astype(np.int64),
        attributes=array("test_attributes.npy"),
        images=images,
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
