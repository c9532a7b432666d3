"""The prepared dataset on disk, for its writer (``prepare``) and every reader: one .npy per array of each
split, and ``meta.json``, which records the SHA-256 of every .npy (``files``) so that a reader refuses a
file that was altered or damaged::

    data/prepare/<split>_images.npy       uint8 (N, C, H, W), <split> = train, val or test
    data/prepare/<split>_labels.npy       int64 (N,)
    data/prepare/<split>_attributes.npy   uint8 (N, A) in {0, 1}, only for datasets with attributes
    data/prepare/meta.json                names, shapes, sizes, the content SHA-256 and each file's SHA-256

:func:`load_prepared` reads every split; :func:`load_test_split` only the test split, images
memory-mapped, so the analysis stages never load the training images (gigabytes at ImageNet scale).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.data.base import Split
from pipeline.data.prepare import SPLITS, Prepared
from pipeline.errors import DatasetCorrupt, DatasetUnavailable, InputCorrupt
from pipeline.io.files import read_json, read_npy, save_npy, write_json

PREPARED_FORMAT = 2  # 2: meta.json has "files", each .npy's SHA-256
WRITER = "prepare"  # the stage that writes the prepared dataset
META = "meta.json"
ARRAYS = ("images", "labels", "attributes")  # the arrays of a split, in the order they are written


def array_file(split: str, array: str) -> str:
    """The file name of one array of one split, e.g. ``test_labels.npy``."""
    return f"{split}_{array}.npy"


def save_prepared(folder: Path, data: Prepared) -> None:
    """Every split's arrays (attributes only where the dataset has them), then ``meta.json``, the last
    file written."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in SPLITS:
        split = data.split(name)
        for array, values in zip(ARRAYS, (split.images, split.labels, split.attributes), strict=True):
            if values is not None:
                files[array_file(name, array)] = save_npy(
                    folder / array_file(name, array), np.ascontiguousarray(values)
                )
    meta = {
        "format": PREPARED_FORMAT,
        "name": data.name,
        "class_names": list(data.class_names),
        "attribute_names": list(data.attribute_names),
        "image_shape": list(data.image_shape),
        "sizes": {name: len(data.split(name)) for name in SPLITS},
        "sha256": data.sha256,
        "files": files,
    }
    write_json(folder / META, meta)


@dataclass(frozen=True)
class Recorded:
    """A prepared folder as its meta.json records it: the values, and each .npy's SHA-256 (``files``),
    against which every array is checked as it is read."""

    folder: Path
    meta: dict[str, Any]
    files: dict[str, str]

    def fail(self, problem: str) -> InputCorrupt:
        return InputCorrupt(f"{self.folder / META}: {problem}; rerun `dvc repro {WRITER}`")

    def value(self, key: str) -> Any:
        if key not in self.meta:
            raise self.fail(f"lacks {key!r}")
        return self.meta[key]

    def names(self, key: str) -> tuple[str, ...]:
        """A list of names in meta.json (class or attribute names) as a tuple."""
        names = self.value(key)
        if not isinstance(names, list):
            raise self.fail(f"{key!r} is not a list")
        return tuple(str(name) for name in names)

    def array(self, split: str, array: str, mmap: bool = False) -> np.ndarray | None:
        """The checked array of ``split``, or None when meta.json records no such file."""
        file = array_file(split, array)
        if file not in self.files:
            return None
        return read_npy(self.folder / file, self.files[file], WRITER, mmap=mmap)

    def required(self, split: str, array: str, mmap: bool = False) -> np.ndarray:
        found = self.array(split, array, mmap)
        if found is None:
            raise self.fail(f"records no SHA-256 of {array_file(split, array)}")
        return found


def open_recorded(folder: Path) -> Recorded:
    """meta.json of ``folder``; an InputCorrupt when it is missing, garbled, of another format or has no
    map of the files' SHA-256."""
    folder = Path(folder)
    meta = read_json(folder / META, WRITER)
    found = meta.get("format") if isinstance(meta, dict) else None
    files = meta.get("files") if isinstance(meta, dict) else None
    if found != PREPARED_FORMAT or not isinstance(files, dict):
        raise InputCorrupt(
            f"{folder / META}: prepared-data format {found} without the files' SHA-256 (this "
            f"version reads format {PREPARED_FORMAT}); rerun `dvc repro {WRITER}`"
        )
    return Recorded(folder, meta, {str(k): str(v) for k, v in files.items()})


def load_prepared(folder: Path) -> Prepared:
    """Inverse of :func:`save_prepared`, every file checked against its SHA-256 (about 50 ms for
    Fashion-MNIST's 55 MB, 40 of them hashing at ~1 GB/s); a missing or damaged file is an InputCorrupt
    naming it."""
    recorded = open_recorded(folder)
    splits = {
        name: Split(
            recorded.required(name, "images"),
            recorded.required(name, "labels"),
            recorded.array(name, "attributes"),
        )
        for name in SPLITS
    }
    return Prepared(
        str(recorded.value("name")),
        recorded.names("class_names"),
        recorded.names("attribute_names"),
        **splits,
        sha256=str(recorded.value("sha256")),
        source=str(folder),
    )


@dataclass(frozen=True)
class TestSplit:
    """The test split alone: what the analysis stages read."""

    __test__ = False  # not a pytest test class, whatever its name

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
    folder = Path(folder)
    if not (folder / META).is_file():
        raise DatasetUnavailable(f"{folder}: no prepared dataset ({META} missing); run `dvc repro {WRITER}`")
    recorded = open_recorded(folder)
    split = TestSplit(
        class_names=recorded.names("class_names"),
        attribute_names=recorded.names("attribute_names"),
        labels=recorded.required("test", "labels").astype(np.int64),
        attributes=recorded.array("test", "attributes"),
        images=recorded.required("test", "images", mmap=True),
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
