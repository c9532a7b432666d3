"""The prepared dataset on disk: one .npy per array of each split, and ``meta.json``, which records the
SHA-256 of every .npy (``files``) so that a reader refuses a file that was altered or damaged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.data.base import Split
from pipeline.data.prepare import SPLITS, Prepared
from pipeline.errors import InputCorrupt
from pipeline.io.files import atomic_path, file_sha256, read_json, read_npy, write_json

PREPARED_FORMAT = 2  # 2: meta.json has "files", each .npy's SHA-256
WRITER = "prepare"  # the stage that writes the prepared dataset


def _save_npy(path: Path, array: np.ndarray) -> str:
    """Write ``array``; return the SHA-256 of the file written."""
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
    return file_sha256(path)


def save_prepared(folder: Path, data: Prepared) -> None:
    """``folder/{split}_{images,labels,attributes}.npy`` plus ``meta.json``, the last file written."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in SPLITS:
        split = data.split(name)
        arrays = {"images": split.images, "labels": split.labels, "attributes": split.attributes}
        for kind, array in arrays.items():
            if array is not None:
                files[f"{name}_{kind}.npy"] = _save_npy(folder / f"{name}_{kind}.npy", array)
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
    write_json(folder / "meta.json", meta)


@dataclass(frozen=True)
class Recorded:
    """A prepared folder as its meta.json records it: the values, and each .npy's SHA-256 (``files``),
    against which every array is checked as it is read."""

    folder: Path
    meta: dict[str, Any]
    files: dict[str, str]

    def fail(self, problem: str) -> InputCorrupt:
        return InputCorrupt(f"{self.folder / 'meta.json'}: {problem}; rerun `dvc repro {WRITER}`")

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

    def array(self, file: str, mmap: bool = False) -> np.ndarray | None:
        """The checked array of ``file``, or None when meta.json records no such file."""
        if file not in self.files:
            return None
        return read_npy(self.folder / file, self.files[file], WRITER, mmap=mmap)

    def required(self, file: str, mmap: bool = False) -> np.ndarray:
        array = self.array(file, mmap)
        if array is None:
            raise self.fail(f"records no SHA-256 of {file}")
        return array


def open_recorded(folder: Path) -> Recorded:
    """meta.json of ``folder``; an InputCorrupt when it is missing, garbled, of another format or has no
    map of the files' SHA-256."""
    folder = Path(folder)
    meta = read_json(folder / "meta.json", WRITER)
    found = meta.get("format") if isinstance(meta, dict) else None
    files = meta.get("files") if isinstance(meta, dict) else None
    if found != PREPARED_FORMAT or not isinstance(files, dict):
        raise InputCorrupt(
            f"{folder / 'meta.json'}: prepared-data format {found} without the files' SHA-256 (this "
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
            recorded.required(f"{name}_images.npy"),
            recorded.required(f"{name}_labels.npy"),
            recorded.array(f"{name}_attributes.npy"),
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
