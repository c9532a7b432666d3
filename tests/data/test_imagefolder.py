"""ImageNet-style folder loader on a few tiny PNG and JPEG files in train/<class>/ and val/<class>/."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.config import PrepareParams
from pipeline.data import imagefolder
from pipeline.data.base import DatasetCorrupt, DatasetUnavailable

RED, GREEN, BLUE = (220, 20, 20), (20, 220, 20), (20, 20, 220)


def _save(path: Path, image: Image.Image) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def write_fake_folder(root: Path, val_classes: tuple[str, ...] = ("cat", "dog")) -> None:
    """train: cat (2 PNG, one grayscale), dog (1 PNG); val: one JPEG per class in ``val_classes``."""
    _save(root / "train" / "cat" / "a.png", Image.new("RGB", (40, 30), RED))
    _save(root / "train" / "cat" / "b.png", Image.new("L", (20, 20), 77))
    _save(root / "train" / "dog" / "c.png", Image.new("RGB", (25, 50), GREEN))
    for name in val_classes:
        _save(root / "val" / name / "d.jpg", Image.new("RGB", (33, 33), BLUE))


def cfg(image_size: int | None = None) -> PrepareParams:
    return PrepareParams(dataset="imagefolder", allow_download=False, image_size=image_size)


def test_reads_sorted_classes_as_rgb(tmp_path: Path) -> None:
    write_fake_folder(tmp_path)
    ds = imagefolder.load(tmp_path, cfg())

    assert ds.name == "imagefolder" and ds.class_names == ("cat", "dog") and ds.source == str(tmp_path)
    assert ds.train.images.dtype == np.uint8 and ds.train.images.shape == (3, 3, 64, 64)
    assert ds.test.images.shape == (2, 3, 64, 64)
    assert ds.train.labels.dtype == np.int64 and ds.train.labels.tolist() == [0, 0, 1]
    assert ds.test.labels.tolist() == [0, 1]
    expected = np.array([RED, (77, 77, 77), GREEN], dtype=np.uint8)[:, :, None, None]
    np.testing.assert_array_equal(ds.train.images, np.broadcast_to(expected, (3, 3, 64, 64)))


def test_resize_then_center_crop(tmp_path: Path) -> None:
    write_fake_folder(tmp_path)
    wide = Image.new("RGB", (48, 16), RED)  # red | green | red thirds: the center crop keeps only green
    wide.paste(GREEN, (16, 0, 32, 16))
    _save(tmp_path / "train" / "dog" / "e.png", wide)
    ds = imagefolder.load(tmp_path, cfg(image_size=16))

    assert ds.train.images.shape == (4, 3, 16, 16) and ds.test.images.shape == (2, 3, 16, 16)
    np.testing.assert_array_equal(
        ds.train.images[3], np.broadcast_to(np.array(GREEN, dtype=np.uint8)[:, None, None], (3, 16, 16))
    )
    np.testing.assert_allclose(ds.test.images.reshape(2, 3, -1).mean(axis=2), [BLUE, BLUE], atol=3)  # JPEG


def test_val_with_other_classes_is_corrupt(tmp_path: Path) -> None:
    write_fake_folder(tmp_path, val_classes=("cat", "cow"))
    with pytest.raises(DatasetCorrupt, match=r"missing in val: \['dog'\], extra in val: \['cow'\]"):
        imagefolder.load(tmp_path, cfg())


def test_missing_folders_name_the_root(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable) as info:
        imagefolder.load(tmp_path, cfg())
    message = str(info.value)
    assert "\n" not in message and message.startswith("imagefolder:")
    assert f"{tmp_path}/train/<class>/<image>" in message and "prepare.root" in message
