"""The corrupted test views of a study on disk (written by the ``corrupt`` stage, read by ``predict``):
index.npy       int64 test-split indices of the views' images, in increasing order
<view>.npy      uint8 (N, C, H, W) images of each view, <view> = ``<corruption>-<severity>``
views.json      the view names in order, the number of examples, and how they were drawn
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.io.files import read_json, write_json
from pipeline.io.folders import replaced_folder


def write_views(
    out: Path, index: np.ndarray, views: Mapping[str, np.ndarray], meta: Mapping[str, Any]
) -> None:
    """The layout above, swapped in only when complete (a failure keeps the previous folder)."""
    with replaced_folder(out) as tmp:
        np.save(tmp / "index.npy", index.astype(np.int64))
        for view, images in views.items():
            np.save(tmp / f"{view}.npy", images)
        write_json(tmp / "views.json", {"views": list(views), "examples": int(index.size), **meta})


def read_views(folder: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """What :func:`write_views` wrote: (test-split indices, view name -> uint8 images), views in order."""
    meta = read_json(folder / "views.json")
    index = np.load(folder / "index.npy")
    return index, {view: np.load(folder / f"{view}.npy") for view in meta["views"]}
