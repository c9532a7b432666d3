"""Shared types of the dataset loaders and the prepared form every later stage reads.

A loader turns a dataset's own files into a :class:`RawDataset` (train and test splits as uint8 arrays);
:func:`pipeline.data.prepare.prepare` carves the validation split and checksums the content.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import DatasetCorrupt, DatasetUnavailable  # noqa: F401 (re-exported to the loaders)
from pipeline.progress import progress

if TYPE_CHECKING:
    from pipeline.config import PrepareParams


@dataclass(frozen=True)
class Split:
    """One split, index-aligned: ``images[i]`` has label ``labels[i]`` and attributes ``attributes[i]``.

    images: (N, C, H, W) uint8; labels: (N,) int64 in [0, num_classes); attributes: (N, A) uint8 in {0, 1}
    or None when the dataset carries none.
    """

    images: np.ndarray
    labels: np.ndarray
    attributes: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class RawDataset:
    """A dataset as its files define it: a training and a test split, class names, attribute names."""

    name: str
    class_names: tuple[str, ...]
    train: Split
    test: Split
    attribute_names: tuple[str, ...] = ()
    source: str = ""  # where the files were read from, for the log and the metadata


CHUNK = 512  # images decoded at once: memory holds the output plus one chunk of originals, never them all

# A loader reads (or downloads into) ``root`` and returns the raw dataset.
Loader = Callable[[Path, "PrepareParams"], RawDataset]


def check_split(split: Split, num_classes: int, where: str) -> None:
    """Raise DatasetCorrupt unless ``split`` has the documented dtypes, shapes and label range."""
    n = len(split)
    problems = []
    if split.images.dtype != np.uint8 or split.images.ndim != 4 or split.images.shape[0] != n:
        problems.append(f"images {split.images.dtype} {split.images.shape} for {n} labels")
    if split.labels.ndim != 1 or n == 0 or split.labels.min() < 0 or split.labels.max() >= num_classes:
        problems.append(f"labels outside [0, {num_classes})")
    if split.attributes is not None and split.attributes.shape[0] != n:
        problems.append(f"attributes {split.attributes.shape} for {n} labels")
    if problems:
        raise DatasetCorrupt(f"{where}: {'; '.join(problems)}")


def pil_to_array(images: Sequence[object], size: int | None) -> np.ndarray:
    """Stack PIL images into a (N, C, H, W) uint8 array, as RGB (or L for grayscale sources).

    With ``size`` each image is resized (shorter side) and center-cropped to size x size, the
    ImageNet-style evaluation transform; without it all images must already share one size.
    """
    from torchvision.transforms.v2 import functional as TF

    arrays = []
    for image in images:
        if size is not None:
            image = TF.center_crop(TF.resize(image, [size]), [size, size])
        array = np.asarray(image, dtype=np.uint8)
        arrays.append(array[:, :, None] if array.ndim == 2 else array)
    stacked = np.stack(arrays)  # (N, H, W, C)
    return np.ascontiguousarray(stacked.transpose(0, 3, 1, 2))


def read_image_files(paths: Sequence[str | Path], size: int, desc: str = "images") -> np.ndarray:
    """Read image files as RGB, resized (shorter side) and center-cropped to ``size`` x ``size``.

    Returns (N, 3, size, size) uint8, index-aligned with ``paths``.
    """
    from PIL import Image

    def open_rgb(path: str | Path) -> Image.Image:
        with Image.open(path) as image:
            return image.convert("RGB")

    out = np.empty((len(paths), 3, size, size), dtype=np.uint8)
    decoded = (open_rgb(path) for path in progress(paths, len(paths), desc))
    for start in range(0, len(paths), CHUNK):
        chunk = list(itertools.islice(decoded, CHUNK))
        out[start : start + len(chunk)] = pil_to_array(chunk, size)
    return out
