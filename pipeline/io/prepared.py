"""The prepared dataset on disk: one .npy per array of each split, and ``meta.json``, which records the
SHA-256 of every .npy (``files``) so that a reader refuses a file that was altered or damaged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline.data.base import Split
from pipeline.data.prepare import SPLITS, Prepared
from pipeline.errors import InputCorrupt
from pipeline.io.files import atomic_path, file_sha256, read_json, read_npy, write_json

PREPARED_FORMAT = 2  # 2: meta.json has "files", each .npy's SHA-256
WRITER = "download"  # the stage that writes the prepared dataset


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


def load_prepared(folder: Path) -> Prepared:
    """Inverse of :func:`save_prepared`, every file checked against its SHA-256 (about 50 ms for
    Fashion-MNIST's 55 MB, 40 of them hashing at ~1 GB/s); a missing or damaged file is an InputCorrupt
    naming it."""
    folder = Path(folder)
    meta = read_json(folder / "meta.json", WRITER)
    files = recorded_files(folder, meta)

    def array(file: str) -> np.ndarray | None:
        return read_npy(folder / file, files[file], WRITER) if file in files else None

    splits = {}
    for name in SPLITS:
        images, labels = array(f"{name}_images.npy"), array(f"{name}_labels.npy")
        if images is None or labels is None:
            raise InputCorrupt(
                f"{folder / 'meta.json'}: records no {name} images or labels; rerun `dvc repro {WRITER}`"
            )
        splits[name] = Split(images, labels, array(f"{name}_attributes.npy"))
    try:
        return Prepared(
            meta["name"],
            tuple(meta["class_names"]),
            tuple(meta["attribute_names"]),
            **splits,
            sha256=meta["sha256"],
            source=str(folder),
        )
    except (KeyError, TypeError) as err:
        raise InputCorrupt(
            f"{folder / 'meta.json'}: lacks or garbles {err}; rerun `dvc repro {WRITER}`"
        ) from None


def recorded_files(folder: Path, meta: Any) -> dict[str, str]:
    """meta.json's map from file name to SHA-256; an InputCorrupt for another format or no map."""
    found = meta.get("format") if isinstance(meta, dict) else None
    files = meta.get("files") if isinstance(meta, dict) else None
    if found != PREPARED_FORMAT or not isinstance(files, dict):
        raise InputCorrupt(
            f"{folder / 'meta.json'}: prepared-data format {found} without the files' SHA-256 (this "
            f"version reads format {PREPARED_FORMAT}); rerun `dvc repro {WRITER}`"
        )
    return {str(k): str(v) for k, v in files.items()}
