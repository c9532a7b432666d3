"""CelebA loader on tiny fake files in the real text formats and a few aligned JPEG photos."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.config import ConfigError, PrepareParams
from pipeline.data import celeba
from pipeline.data.base import DatasetUnavailable

PARTITION = [0, 0, 1, 2, 0, 2]  # 0 train, 1 valid (unused), 2 test
LANDMARKS = (  # the header line of list_landmarks_align_celeba.txt
    "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y "
    "leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
)


def _colour(i: int) -> tuple[int, int, int]:
    return (40 * i, 255 - 40 * i, 128)


def write_fake_celeba(root: Path, seed: int = 0) -> np.ndarray:
    """The five text files and one 178x218 JPEG per row; returns the written (N, 40) attributes in {-1, 1}."""
    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    n = len(PARTITION)
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    attributes = np.where(np.random.default_rng(seed).random((n, 40)) < 0.5, -1, 1)
    for i, name in enumerate(names):
        Image.new("RGB", (178, 218), _colour(i)).save(folder / "img_align_celeba" / name, quality=95)

    def write(file: str, header: list[str], rows: list[str]) -> None:
        (folder / file).write_text("\n".join(header + rows) + "\n")

    # the real header line ends with a space, which torchvision turns into a 41st, empty name
    write(
        "list_attr_celeba.txt",
        [str(n), " ".join(celeba.ATTRIBUTES) + " "],
        [name + "".join(f" {v:2d}" for v in row) for name, row in zip(names, attributes, strict=True)],
    )
    write("list_eval_partition.txt", [], [f"{name} {p}" for name, p in zip(names, PARTITION, strict=True)])
    write("identity_CelebA.txt", [], [f"{name} {100 + i}" for i, name in enumerate(names)])
    write(
        "list_bbox_celeba.txt",
        [str(n), "image_id x_1 y_1 width height"],
        [f"{name}    95  71 226 313" for name in names],
    )
    write(
        "list_landmarks_align_celeba.txt",
        [str(n), LANDMARKS],
        [f"{name} 69  109  106  113   77  142   73  152  108  154" for name in names],
    )
    return attributes


@pytest.fixture
def no_md5(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake files cannot match the real MD5s: check existence only, as torchvision's own tests do."""
    import torchvision.datasets.celeba

    monkeypatch.setattr(
        torchvision.datasets.celeba, "check_integrity", lambda path, md5=None: os.path.isfile(path)
    )


def cfg(target: str = "Blond_Hair", image_size: int | None = None) -> PrepareParams:
    return PrepareParams(dataset="celeba", allow_download=False, celeba_target=target, image_size=image_size)


@pytest.mark.parametrize("target", ["Blond_Hair", "Smiling", "5_o_Clock_Shadow"])
def test_label_is_the_target_column_of_all_40_attributes(tmp_path: Path, no_md5: None, target: str) -> None:
    written = (write_fake_celeba(tmp_path) + 1) // 2  # {-1, 1} -> {0, 1}
    ds = celeba.load(tmp_path, cfg(target))

    column = celeba.ATTRIBUTES.index(target)
    assert ds.name == "celeba" and ds.class_names == (f"not {target}", target)
    assert ds.attribute_names == celeba.ATTRIBUTES and len(ds.attribute_names) == 40
    assert ds.source == str(tmp_path / "celeba")
    for split, rows in ((ds.train, [0, 1, 4]), (ds.test, [3, 5])):
        assert split.attributes is not None and split.attributes.dtype == np.uint8
        np.testing.assert_array_equal(split.attributes, written[rows])
        assert split.labels.dtype == np.int64 and split.labels.tolist() == written[rows, column].tolist()


def test_photos_are_resized_and_keep_their_colour(tmp_path: Path, no_md5: None) -> None:
    write_fake_celeba(tmp_path)
    ds = celeba.load(tmp_path, cfg())
    assert ds.train.images.dtype == np.uint8 and ds.train.images.shape == (3, 3, 64, 64)
    assert ds.test.images.shape == (2, 3, 64, 64)
    mean = ds.train.images.reshape(3, 3, -1).mean(axis=2)
    np.testing.assert_allclose(mean, [_colour(i) for i in (0, 1, 4)], atol=3)  # JPEG is lossy

    small = celeba.load(tmp_path, cfg(image_size=24))
    assert small.train.images.shape == (3, 3, 24, 24) and small.test.images.shape == (2, 3, 24, 24)


def test_unknown_target_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"prepare\.celeba_target: unknown attribute 'Blonde'.*Blond_Hair"):
        celeba.load(Path("/nonexistent"), cfg("Blonde"))


def test_missing_files_name_the_root_and_the_fixes(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable) as info:
        celeba.load(tmp_path, cfg())
    message = str(info.value)
    assert "\n" not in message and message.startswith("celeba:")
    assert str(tmp_path) in message and "list_attr_celeba.txt" in message
    assert "prepare.root" in message and "prepare.allow_download: true" in message
