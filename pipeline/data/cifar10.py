"""CIFAR-10 (Krizhevsky 2009): 50k/10k 32x32 RGB images of 10 classes.

Read through torchvision.datasets.CIFAR10 from its python pickles in ``root/cifar-10-batches-py``
(data_batch_1..5, test_batch, batches.meta), which torchvision checks against their MD5 and downloads
there when ``prepare.allow_download`` lets it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.data.base import DatasetUnavailable, RawDataset, Split, check_split, pil_to_array

if TYPE_CHECKING:
    from torchvision.datasets import CIFAR10

    from pipeline.config import PrepareParams

FOLDER = "cifar-10-batches-py"
NATIVE_SIZE = 32


def _open(root: Path, train: bool, allow_download: bool) -> CIFAR10:
    """torchvision's CIFAR10 split; DatasetUnavailable when the files are missing and not downloadable."""
    from torchvision.datasets import CIFAR10  # lazy: importing torchvision costs seconds

    try:
        return CIFAR10(str(root), train=train, download=allow_download)
    except (RuntimeError, OSError) as err:  # missing/corrupt files; URLError (an OSError) when offline
        reason = " ".join(str(err).split())
        raise DatasetUnavailable(
            f"cifar10: no usable copy in {root} (expected {root / FOLDER}/data_batch_1..5, test_batch, "
            f"batches.meta; prepare.allow_download is {allow_download}); put the files there or point "
            f"prepare.root at them, or run where the network is reachable with prepare.allow_download: true "
            f"[{reason}]"
        ) from err


def _images(data: np.ndarray, size: int | None) -> np.ndarray:
    """(N, 32, 32, 3) uint8 as stored -> (N, 3, S, S), resized only when ``size`` is set and not 32."""
    if size is None or size == NATIVE_SIZE:
        return np.ascontiguousarray(data.transpose(0, 3, 1, 2))
    from PIL import Image

    return pil_to_array([Image.fromarray(image) for image in data], size)


def load(root: Path, cfg: PrepareParams) -> RawDataset:
    """Both splits as (N, 3, 32, 32) uint8 images (S x S with ``prepare.image_size``), (N,) int64 labels."""
    splits, classes = {}, []
    for name, train in (("train", True), ("test", False)):
        ds = _open(root, train, cfg.allow_download)
        classes = list(ds.classes)
        splits[name] = Split(_images(ds.data, cfg.image_size), np.asarray(ds.targets, dtype=np.int64))
        check_split(splits[name], len(classes), f"cifar10 {name}")
    return RawDataset("cifar10", tuple(classes), splits["train"], splits["test"], source=str(root / FOLDER))
