"""GTSRB loader on tiny fake PPM files laid out like torchvision's gtsrb folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.config import PrepareParams
from pipeline.data import gtsrb
from pipeline.data.base import DatasetUnavailable

TEST_HEADER = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId"

# (class folder, file, (width, height), colour): photos of different sizes; class 00001 is absent on purpose.
TRAIN = [
    ("00000", "00000_00000.ppm", (30, 34), (200, 10, 10)),
    ("00000", "00000_00001.ppm", (41, 40), (10, 200, 10)),
    ("00002", "00000_00000.ppm", (52, 48), (10, 10, 200)),
]
TEST = [("00000.ppm", (35, 31), (90, 90, 0), 14), ("00001.ppm", (64, 70), (0, 90, 90), 42)]


def _ppm(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, format="PPM")


def write_fake_gtsrb(root: Path) -> None:
    base = root / "gtsrb"
    for folder, name, size, colour in TRAIN:
        _ppm(base / "GTSRB" / "Training" / folder / name, size, colour)
        (base / "GTSRB" / "Training" / folder / f"GT-{folder}.csv").write_text(f"{TEST_HEADER}\n")
    rows = [TEST_HEADER]
    for name, (w, h), colour, class_id in TEST:
        _ppm(base / "GTSRB" / "Final_Test" / "Images" / name, (w, h), colour)
        rows.append(f"{name};{w};{h};5;5;{w - 5};{h - 5};{class_id}")
    (base / "GT-final_test.csv").write_text("\n".join(rows) + "\n")


def cfg(image_size: int | None = None) -> PrepareParams:
    return PrepareParams(dataset="gtsrb", allow_download=False, image_size=image_size)


def _colours(images: np.ndarray) -> list[tuple[int, ...]]:
    """The colour of each (solid) image, after checking it is still solid."""
    assert (images == images[:, :, :1, :1]).all()
    return [tuple(int(v) for v in image[:, 0, 0]) for image in images]


def test_reads_both_splits_with_class_ids(tmp_path: Path) -> None:
    write_fake_gtsrb(tmp_path)
    ds = gtsrb.load(tmp_path, cfg())

    assert ds.name == "gtsrb" and ds.source == str(tmp_path / "gtsrb")
    assert len(ds.class_names) == 43 and ds.class_names[14] == "Stop" and ds.class_names[13] == "Yield"
    assert ds.train.images.dtype == np.uint8 and ds.train.images.shape == (3, 3, 32, 32)
    assert ds.test.images.shape == (2, 3, 32, 32)
    # the label is the folder's ClassId, even though class 00001 is missing from this copy
    assert ds.train.labels.dtype == np.int64 and ds.train.labels.tolist() == [0, 0, 2]
    assert ds.test.labels.tolist() == [14, 42]
    assert _colours(ds.train.images) == [colour for *_, colour in TRAIN]
    assert _colours(ds.test.images) == [colour for _, _, colour, _ in TEST]


def test_image_size_resizes_every_photo(tmp_path: Path) -> None:
    write_fake_gtsrb(tmp_path)
    ds = gtsrb.load(tmp_path, cfg(image_size=20))
    assert ds.train.images.shape == (3, 3, 20, 20) and ds.test.images.shape == (2, 3, 20, 20)


def test_missing_files_name_the_root_and_the_fixes(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable) as info:
        gtsrb.load(tmp_path, cfg())
    message = str(info.value)
    assert "\n" not in message and message.startswith("gtsrb:")
    assert str(tmp_path) in message and "GT-final_test.csv" in message
    assert "prepare.root" in message and "prepare.allow_download: true" in message
