"""Any ImageNet-style folder of images: ``root/train/<class>/<image>`` and ``root/val/<class>/<image>``.

Read through torchvision.datasets.ImageFolder; ``val`` serves as the test split.  Classes are the sorted
folder names of ``root/train`` and ``root/val`` must have the same ones.  Images are read as RGB and
resized (shorter side) and center-cropped to ``data.image_size`` (64 when unset).

:func:`read_image_files` is shared with the other loaders whose images are files (gtsrb, celeba).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.data.base import (
    DatasetCorrupt,
    DatasetUnavailable,
    RawDataset,
    Split,
    check_split,
    pil_to_array,
)
from pipeline.progress import progress

if TYPE_CHECKING:
    from torchvision.datasets import ImageFolder

    from pipeline.config import DataConfig

DEFAULT_SIZE = 64
CHUNK = 512  # images decoded at once: memory holds the output plus one chunk of originals, never them all


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


def _folder(root: Path, split: str) -> ImageFolder:
    """torchvision's ImageFolder over ``root/split``; DatasetUnavailable when it is missing or empty."""
    from torchvision.datasets import ImageFolder  # lazy: importing torchvision costs seconds

    try:
        return ImageFolder(str(root / split))
    except OSError as err:  # FileNotFoundError: no folder, no class folder, or a class without images
        reason = " ".join(str(err).split())
        raise DatasetUnavailable(
            f"imagefolder: no usable copy in {root} (expected {root}/train/<class>/<image> and "
            f"{root}/val/<class>/<image>, ImageNet style); put the files there or point data.root at them "
            f"(imagefolder has no download) [{reason}]"
        ) from err


def _check_same_classes(root: Path, train: list[str], val: list[str]) -> None:
    if train != val:
        missing, extra = sorted(set(train) - set(val)), sorted(set(val) - set(train))
        raise DatasetCorrupt(
            f"imagefolder: {root}/val must have the classes of {root}/train; "
            f"missing in val: {missing}, extra in val: {extra}"
        )


def load(root: Path, cfg: DataConfig) -> RawDataset:
    """Read ``root/train`` and ``root/val`` as (N, 3, S, S) uint8 images with (N,) int64 folder labels."""
    size = cfg.image_size or DEFAULT_SIZE
    folders = {"train": _folder(root, "train"), "test": _folder(root, "val")}
    classes = list(folders["train"].classes)
    _check_same_classes(root, classes, list(folders["test"].classes))
    splits = {}
    for name, ds in folders.items():
        paths = [path for path, _ in ds.samples]
        labels = np.asarray([label for _, label in ds.samples], dtype=np.int64)
        splits[name] = Split(read_image_files(paths, size, f"imagefolder {name}"), labels)
        check_split(splits[name], len(classes), f"imagefolder {name}")
    return RawDataset("imagefolder", tuple(classes), splits["train"], splits["test"], source=str(root))
