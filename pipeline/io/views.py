"""The corrupted test views of a study on disk (written by the ``corrupt`` stage, read by ``predict``; their
names by ``robustness``):
index.npy       int64 test-split indices of the views' images, in increasing order
<view>.npy      uint8 (N, C, H, W) images of each view, <view> = ``<corruption>-<severity>``
views.json      the view names in order, the number of examples, how they were drawn, and the SHA-256 of
                each .npy above (``files``), checked when the views are read
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputCorrupt
from pipeline.io.files import file_sha256, read_json, read_npy, write_json
from pipeline.io.folders import replaced_folder

WRITER = "corrupt"  # the stage that writes the views


def write_views(
    out: Path, index: np.ndarray, views: Mapping[str, np.ndarray], meta: Mapping[str, Any]
) -> None:
    """The layout above, swapped in only when complete (a failure keeps the previous folder)."""
    with replaced_folder(out) as tmp:
        arrays = {"index.npy": index.astype(np.int64)} | {f"{v}.npy": images for v, images in views.items()}
        files = {}
        for name, array in arrays.items():
            np.save(tmp / name, array)
            files[name] = file_sha256(tmp / name)
        summary = {"views": list(views), "examples": int(index.size), **meta, "files": files}
        write_json(tmp / "views.json", summary)


def read_view_names(folder: Path) -> list[str]:
    """The names of the views :func:`write_views` wrote, in order, from ``views.json`` alone (no image is
    read); a missing or garbled file is an InputCorrupt naming it."""
    return list(_read_meta(Path(folder))[1])


def _read_meta(folder: Path) -> tuple[dict[str, Any], list[str]]:
    """(file name -> SHA-256, view names) of ``views.json``."""
    meta = read_json(folder / "views.json", WRITER)
    files, names = (meta.get("files"), meta.get("views")) if isinstance(meta, dict) else (None, None)
    if (
        not isinstance(files, dict)
        or not isinstance(names, list)
        or not all(isinstance(n, str) for n in names)
    ):
        raise InputCorrupt(
            f"{folder / 'views.json'}: no view list or no SHA-256 of the view files (an older or garbled "
            f"file); rerun `dvc repro {WRITER}`"
        )
    return files, names


def read_views(folder: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """What :func:`write_views` wrote: (test-split indices, view name -> uint8 images), views in order,
    each file checked against its SHA-256; a missing or damaged file is an InputCorrupt naming it."""
    folder = Path(folder)
    files, names = _read_meta(folder)

    def array(name: str) -> np.ndarray:
        if name not in files:
            raise InputCorrupt(
                f"{folder / 'views.json'}: records no SHA-256 of {name}; rerun `dvc repro {WRITER}`"
            )
        return read_npy(folder / name, files[name], WRITER)

    index = array("index.npy")
    views = {view: array(f"{view}.npy") for view in names}
    for view, images in views.items():
        if images.shape[:1] != index.shape:
            raise InputCorrupt(
                f"{folder / f'{view}.npy'}: {images.shape[0]} images for {index.size} indices; "
                f"rerun `dvc repro {WRITER}`"
            )
    return index, views
