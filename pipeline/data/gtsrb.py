"""GTSRB (Stallkamp et al. 2012): 39,209 training and 12,630 test photos of 43 German traffic signs.

Read through torchvision.datasets.GTSRB from ``root/gtsrb``: training images in
``GTSRB/Training/<5-digit class>/*.ppm``, test images in ``GTSRB/Final_Test/Images/*.ppm`` with their labels
in ``GT-final_test.csv``.  The photos vary in size (15 to 250 px); each is read as RGB and resized (shorter
side) and center-cropped to ``prepare.image_size`` (32 when unset).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.data.base import DatasetUnavailable, RawDataset, Split, check_split, read_image_files

if TYPE_CHECKING:
    from torchvision.datasets import GTSRB

    from pipeline.config import PrepareParams

DEFAULT_SIZE = 32

# The benchmark's class names, in ClassId order (the signnames.csv that accompanies most GTSRB code).
CLASS_NAMES = (
    "Speed limit (20km/h)",
    "Speed limit (30km/h)",
    "Speed limit (50km/h)",
    "Speed limit (60km/h)",
    "Speed limit (70km/h)",
    "Speed limit (80km/h)",
    "End of speed limit (80km/h)",
    "Speed limit (100km/h)",
    "Speed limit (120km/h)",
    "No passing",
    "No passing for vehicles over 3.5 metric tons",
    "Right-of-way at the next intersection",
    "Priority road",
    "Yield",
    "Stop",
    "No vehicles",
    "Vehicles over 3.5 metric tons prohibited",
    "No entry",
    "General caution",
    "Dangerous curve to the left",
    "Dangerous curve to the right",
    "Double curve",
    "Bumpy road",
    "Slippery road",
    "Road narrows on the right",
    "Road work",
    "Traffic signals",
    "Pedestrians",
    "Children crossing",
    "Bicycles crossing",
    "Beware of ice/snow",
    "Wild animals crossing",
    "End of all speed and passing limits",
    "Turn right ahead",
    "Turn left ahead",
    "Ahead only",
    "Go straight or right",
    "Go straight or left",
    "Keep right",
    "Keep left",
    "Roundabout mandatory",
    "End of no passing",
    "End of no passing by vehicles over 3.5 metric tons",
)


def _open(root: Path, split: str, allow_download: bool) -> GTSRB:
    """torchvision's GTSRB split; DatasetUnavailable when the files are missing and not downloadable."""
    from torchvision.datasets import GTSRB  # lazy: importing torchvision costs seconds

    try:
        return GTSRB(str(root), split=split, download=allow_download)
    except (RuntimeError, OSError) as err:  # missing folder or csv; URLError (an OSError) when offline
        reason = " ".join(str(err).split())
        raise DatasetUnavailable(
            f"gtsrb: no usable copy in {root} (expected {root}/gtsrb/GTSRB/Training/<class>/*.ppm, "
            f"{root}/gtsrb/GTSRB/Final_Test/Images/*.ppm and {root}/gtsrb/GT-final_test.csv; "
            f"prepare.allow_download is {allow_download}); put the files there or point prepare.root at "
            "them, "
            f"or run where the network is reachable with prepare.allow_download: true [{reason}]"
        ) from err


def _labels(samples: list[tuple[str, int]], split: str) -> np.ndarray:
    """(N,) int64 ClassIds.  Training labels come from the folder name, not from torchvision's index of the
    sorted folders, which shifts every later class when a class folder is missing."""
    if split == "train":
        return np.asarray([int(Path(path).parent.name) for path, _ in samples], dtype=np.int64)
    return np.asarray([label for _, label in samples], dtype=np.int64)


def load(root: Path, cfg: PrepareParams) -> RawDataset:
    """Read both splits as (N, 3, S, S) uint8 images and (N,) int64 ClassIds in [0, 43)."""
    size = cfg.image_size or DEFAULT_SIZE
    splits = {}
    for split in ("train", "test"):
        samples = _open(root, split, cfg.allow_download)._samples  # [(path, class id)]
        images = read_image_files([path for path, _ in samples], size, f"gtsrb {split}")
        splits[split] = Split(images, _labels(samples, split))
        check_split(splits[split], len(CLASS_NAMES), f"gtsrb {split}")
    return RawDataset("gtsrb", CLASS_NAMES, splits["train"], splits["test"], source=str(root / "gtsrb"))
