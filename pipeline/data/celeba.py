"""CelebA (Liu et al. 2015): aligned, cropped 178x218 face photos with 40 binary attributes.

Read through torchvision.datasets.CelebA (``target_type="attr"``) from ``root/celeba``: the photos in
``img_align_celeba/*.jpg`` and the text files list_attr_celeba.txt, list_eval_partition.txt,
identity_CelebA.txt, list_bbox_celeba.txt and list_landmarks_align_celeba.txt.  The official "train"
(162,770) and "test" (19,962) partitions are used; the official "valid" partition is not (the validation
split is carved out of train like every other dataset's).  The label is one attribute,
``prepare.celeba_target``
(0: absent, 1: present); all 40 are kept as ``Split.attributes``.  Photos are read as RGB and resized
(shorter side) and center-cropped to ``prepare.image_size`` (64 when unset).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.config import ConfigError
from pipeline.data.base import (
    DatasetCorrupt,
    DatasetUnavailable,
    RawDataset,
    Split,
    check_split,
    read_image_files,
)

if TYPE_CHECKING:
    from torchvision.datasets import CelebA

    from pipeline.config import PrepareParams

DEFAULT_SIZE = 64

# The header of list_attr_celeba.txt, in column order.
ATTRIBUTES = (
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
)


def target_index(name: str) -> int:
    """Column of attribute ``name``; ConfigError naming prepare.celeba_target when it is not one of the 40."""
    if name not in ATTRIBUTES:
        raise ConfigError(
            f"prepare.celeba_target: unknown attribute {name!r}; allowed: {', '.join(ATTRIBUTES)}"
        )
    return ATTRIBUTES.index(name)


def _open(root: Path, split: str, allow_download: bool) -> CelebA:
    """torchvision's CelebA split; DatasetUnavailable when the files are missing and not downloadable."""
    from torchvision.datasets import CelebA  # lazy: importing torchvision costs seconds

    try:
        return CelebA(str(root), split=split, target_type="attr", download=allow_download)
    except (RuntimeError, OSError) as err:  # missing/corrupt files, no gdown; URLError (an OSError) offline
        reason = " ".join(str(err).split())
        raise DatasetUnavailable(
            f"celeba: no usable copy in {root} (expected {root}/celeba/img_align_celeba/*.jpg and "
            f"{root}/celeba/list_attr_celeba.txt, list_eval_partition.txt, identity_CelebA.txt, "
            "list_bbox_celeba.txt, list_landmarks_align_celeba.txt; "
            f"prepare.allow_download is {allow_download}); put the files there or point prepare.root at "
            "them, "
            "or run where the network (Google Drive, with gdown installed) is reachable with "
            f"prepare.allow_download: true [{reason}]"
        ) from err


def _attributes(ds: CelebA, where: str) -> np.ndarray:
    """(N, 40) uint8 in {0, 1}; torchvision has already mapped the file's -1/1 to 0/1."""
    names = tuple(name for name in ds.attr_names if name)  # the header's trailing space adds an empty name
    if names != ATTRIBUTES:
        raise DatasetCorrupt(f"{where}: list_attr_celeba.txt header {names} is not the 40 CelebA attributes")
    attributes = ds.attr.numpy()
    if attributes.size and (attributes.min() < 0 or attributes.max() > 1):
        raise DatasetCorrupt(f"{where}: attribute values outside {{-1, 1}} in list_attr_celeba.txt")
    return attributes.astype(np.uint8)


def load(root: Path, cfg: PrepareParams) -> RawDataset:
    """Read train and test as (N, 3, S, S) uint8 images, (N,) int64 labels (the target attribute) and
    (N, 40) uint8 attributes, index-aligned."""
    column = target_index(cfg.celeba_target)
    size = cfg.image_size or DEFAULT_SIZE
    splits = {}
    for split in ("train", "test"):
        ds = _open(root, split, cfg.allow_download)
        attributes = _attributes(ds, f"celeba {split}")
        folder = Path(ds.root) / ds.base_folder / "img_align_celeba"
        images = read_image_files([folder / name for name in ds.filename], size, f"celeba {split}")
        splits[split] = Split(images, attributes[:, column].astype(np.int64), attributes)
        check_split(splits[split], 2, f"celeba {split}")
    classes = (f"not {cfg.celeba_target}", cfg.celeba_target)
    return RawDataset("celeba", classes, splits["train"], splits["test"], ATTRIBUTES, str(root / "celeba"))
