"""Any ImageNet-style folder of images: ``root/train/<class>/<image>`` and ``root/val/<class>/<image>``.

Read through torchvision.datasets.ImageFolder; ``val`` serves as the test split.  Classes are the sorted
folder names of ``root/train`` and ``root/val`` must have the same ones.  Images are read as RGB and
resized (shorter side) and center-cropped to ``prepare.image_size`` (64 when unset).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.data.base import (
    DatasetCorrupt,
    DatasetUnavailable,
    RawDataset,
    Split,
    check_split,
    read_image_files,
)

if TYPE_CHECKING:
    from torchvision.datasets import ImageFolder

    from pipeline.config import PrepareParams

DEFAULT_SIZE = 64


def _folder(root: Path, split: str) -> ImageFolder:
    """torchvision's ImageFolder over ``root/split``; DatasetUnavailable when it is missing or empty."""
    from torchvision.datasets import ImageFolder  # lazy: importing torchvision costs seconds

    try:
        return ImageFolder(str(root / split))
    except OSError as err:  # FileNotFoundError: no folder, no class folder, or a class without images
        reason = " ".join(str(err).split())
        raise DatasetUnavailable(
            f"imagefolder: no usable copy in {root} (expected {root}/train/<class>/<image> and "
            f"{root}/val/<class>/<image>, ImageNet style); put the files there or point prepare.root at them "
            f"(imagefolder has no download) [{reason}]"
        ) from err


def _check_same_classes(root: Path, train: list[str], val: list[str]) -> None:
    if train != val:
        missing, extra = sorted(set(train) - set(val)), sorted(set(val) - set(train))
        raise DatasetCorrupt(
            f"imagefolder: {root}/val must have the classes of {root}/train; "
            f"missing in val: {missing}, extra in val: {extra}"
        )


def load(root: Path, cfg: PrepareParams) -> RawDataset:
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
