"""CIFAR-10-C, ImageNet-C and ImageNet-A loaders on tiny fake files laid out like the real ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.data.base import DatasetCorrupt, DatasetUnavailable
from pipeline.robustness.datasets import (
    load_cifar10_c,
    load_imagenet_a,
    load_imagenet_c,
    restricted_predictions,
)

PER_SEVERITY = 3  # images per severity in the fake CIFAR-10-C
CIFAR_CORRUPTIONS = ("fog", "gaussian_noise")
WNIDS = ("n01440764", "n01443537", "n01484850", "n01491361", "n01494475")  # the model's 5 classes
RED, GREEN, BLUE = (220, 20, 20), (20, 220, 20), (20, 20, 220)


# -------------------------------------------------------------------------------------------- CIFAR-10-C


def cifar_pixels(corruption: int, severity: int, image: int) -> np.ndarray:
    """(32, 32, 3) HWC image whose value tells corruption, severity, image, row, column and channel."""
    h, w, c = np.meshgrid(np.arange(32), np.arange(32), np.arange(3), indexing="ij")
    return ((corruption * 100 + severity * 20 + image * 5 + h + 2 * w + 7 * c) % 256).astype(np.uint8)


def write_fake_cifar10_c(folder: Path) -> np.ndarray:
    """labels.npy (5 x 3 labels) and one (15, 32, 32, 3) file per corruption; returns the labels."""
    folder.mkdir(parents=True)
    labels = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9], dtype=np.uint8)  # as stored: uint8
    np.save(folder / "labels.npy", labels)
    for k, name in enumerate(CIFAR_CORRUPTIONS):
        data = [cifar_pixels(k, s, i) for s in range(1, 6) for i in range(PER_SEVERITY)]
        np.save(folder / f"{name}.npy", np.stack(data))
    (folder / "README.txt").write_text("not an array")
    return labels


def test_cifar10_c_takes_the_requested_slices_as_nchw(tmp_path: Path) -> None:
    labels = write_fake_cifar10_c(tmp_path / "CIFAR-10-C")
    views = load_cifar10_c(tmp_path, corruptions=["gaussian_noise"], severities=[2, 5])

    assert [(v.corruption, v.severity) for v in views] == [("gaussian_noise", 2), ("gaussian_noise", 5)]
    for view in views:
        s = view.severity
        assert view.images.dtype == np.uint8 and view.images.shape == (PER_SEVERITY, 3, 32, 32)
        assert view.images.flags.c_contiguous and not isinstance(view.images, np.memmap)
        expected = np.stack([cifar_pixels(1, s, i).transpose(2, 0, 1) for i in range(PER_SEVERITY)])
        np.testing.assert_array_equal(view.images, expected)
        assert view.labels.dtype == np.int64 and len(view) == PER_SEVERITY
        assert view.labels.tolist() == labels[(s - 1) * PER_SEVERITY : s * PER_SEVERITY].tolist()


def test_cifar10_c_defaults_to_every_file_and_accepts_the_folder_itself(tmp_path: Path) -> None:
    write_fake_cifar10_c(tmp_path / "CIFAR-10-C")
    views = load_cifar10_c(tmp_path / "CIFAR-10-C")

    assert [(v.corruption, v.severity) for v in views] == [
        (c, s) for c in CIFAR_CORRUPTIONS for s in range(1, 6)
    ]
    np.testing.assert_array_equal(views[0].images[2], cifar_pixels(0, 1, 2).transpose(2, 0, 1))
    resized = load_cifar10_c(tmp_path, corruptions=["fog"], severities=[3], image_size=16)
    assert resized[0].images.shape == (PER_SEVERITY, 3, 16, 16) and resized[0].images.dtype == np.uint8


def test_cifar10_c_unknown_corruption_lists_the_present_ones(tmp_path: Path) -> None:
    write_fake_cifar10_c(tmp_path / "CIFAR-10-C")
    with pytest.raises(DatasetUnavailable, match=r"\['snow'\].*present: \['fog', 'gaussian_noise'\]"):
        load_cifar10_c(tmp_path, corruptions=["fog", "snow"])
    with pytest.raises(ValueError, match="severities"):
        load_cifar10_c(tmp_path, severities=[0])


@pytest.mark.parametrize(
    "shape", [(14, 32, 32, 3), (15, 3, 32, 32), (15, 32, 32)], ids=["rows", "channels-first", "no-channels"]
)
def test_cifar10_c_wrong_shape_is_corrupt(tmp_path: Path, shape: tuple[int, ...]) -> None:
    folder = tmp_path / "CIFAR-10-C"
    write_fake_cifar10_c(folder)
    np.save(folder / "fog.npy", np.zeros(shape, dtype=np.uint8))
    with pytest.raises(DatasetCorrupt, match=r"fog\.npy") as info:
        load_cifar10_c(tmp_path)
    assert str(folder / "fog.npy") in str(info.value) and "\n" not in str(info.value)
    assert load_cifar10_c(tmp_path, corruptions=["gaussian_noise"], severities=[1])  # the other still reads


def test_cifar10_c_bad_labels_are_corrupt(tmp_path: Path) -> None:
    folder = tmp_path / "CIFAR-10-C"
    write_fake_cifar10_c(folder)
    np.save(folder / "labels.npy", np.zeros(14, dtype=np.int64))  # not 5 x n
    with pytest.raises(DatasetCorrupt, match=r"labels\.npy"):
        load_cifar10_c(tmp_path)
    np.save(folder / "labels.npy", np.full(15, 10, dtype=np.int64))  # outside the 10 classes
    with pytest.raises(DatasetCorrupt, match=r"labels in \[0, 10\)"):
        load_cifar10_c(tmp_path)


def test_cifar10_c_missing_folder_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable) as info:
        load_cifar10_c(tmp_path / "nowhere")
    message = str(info.value)
    assert "\n" not in message and message.startswith("cifar10_c:")
    assert f"{tmp_path / 'nowhere' / 'CIFAR-10-C'}/labels.npy" in message and "<corruption>.npy" in message


# --------------------------------------------------------------------------------------------- ImageNet-C


def _save(path: Path, image: Image.Image) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def write_fake_imagenet_c(root: Path) -> None:
    """contrast/1 and contrast/2, each: WNIDS[3] with two PNGs (b before a), WNIDS[1] with one JPEG."""
    for s, color in ((1, RED), (2, GREEN)):
        _save(root / "contrast" / str(s) / WNIDS[3] / "b.png", Image.new("RGB", (30, 20), color))
        _save(root / "contrast" / str(s) / WNIDS[3] / "a.png", Image.new("L", (20, 20), 77))
        _save(root / "contrast" / str(s) / WNIDS[1] / "c.JPEG", Image.new("RGB", (24, 24), BLUE))
    (root / "contrast" / "1" / WNIDS[3] / "notes.txt").write_text("not an image")


def test_imagenet_c_labels_are_model_class_indices(tmp_path: Path) -> None:
    write_fake_imagenet_c(tmp_path)
    views = load_imagenet_c(tmp_path, WNIDS, severities=[1, 2], image_size=8)

    assert [(v.corruption, v.severity) for v in views] == [("contrast", 1), ("contrast", 2)]
    for view, color in zip(views, (RED, GREEN), strict=True):
        assert view.images.dtype == np.uint8 and view.images.shape == (3, 3, 8, 8)
        assert view.labels.dtype == np.int64 and view.labels.tolist() == [1, 3, 3]  # sorted wnids, files
        means = view.images.reshape(3, 3, -1).mean(axis=2)
        np.testing.assert_allclose(means, [BLUE, (77, 77, 77), color], atol=3)  # c.JPEG, a.png, b.png
    default = load_imagenet_c(tmp_path, WNIDS, corruptions=["contrast"], severities=[2])
    assert len(default) == 1 and default[0].severity == 2 and default[0].images.shape == (3, 3, 64, 64)


def test_imagenet_c_folder_outside_the_classes_is_corrupt(tmp_path: Path) -> None:
    write_fake_imagenet_c(tmp_path)
    with pytest.raises(DatasetCorrupt, match=WNIDS[3]):
        load_imagenet_c(tmp_path, WNIDS[:3])


def test_imagenet_c_missing_parts_are_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable) as info:
        load_imagenet_c(tmp_path / "nowhere", WNIDS)
    assert str(tmp_path / "nowhere") in str(info.value) and "<corruption>/<severity>/<wnid>" in str(
        info.value
    )
    write_fake_imagenet_c(tmp_path)
    with pytest.raises(DatasetUnavailable, match=str(tmp_path / "contrast" / "3")):
        load_imagenet_c(tmp_path, WNIDS, severities=[3])
    with pytest.raises(DatasetUnavailable, match=r"\['fog'\].*present: \['contrast'\]"):
        load_imagenet_c(tmp_path, WNIDS, corruptions=["fog"])


# --------------------------------------------------------------------------------------------- ImageNet-A


def write_fake_imagenet_a(root: Path) -> None:
    """imagenet-a/ with 3 of the 5 WNIDS (one image each, two for WNIDS[4]) and a README.txt."""
    folder = root / "imagenet-a"
    _save(folder / WNIDS[4] / "0.jpg", Image.new("RGB", (20, 20), RED))
    _save(folder / WNIDS[4] / "1.jpg", Image.new("RGB", (20, 20), RED))
    _save(folder / WNIDS[0] / "2.jpg", Image.new("RGB", (20, 20), GREEN))
    _save(folder / WNIDS[2] / "3.jpg", Image.new("RGB", (20, 20), BLUE))
    (folder / "README.txt").write_text("ImageNet-A: 200 classes")


@pytest.mark.parametrize("inside", [False, True], ids=["root", "root-is-imagenet-a"])
def test_imagenet_a_view_and_subset(tmp_path: Path, inside: bool) -> None:
    write_fake_imagenet_a(tmp_path)
    view, subset = load_imagenet_a(tmp_path / "imagenet-a" if inside else tmp_path, WNIDS, image_size=8)

    assert (view.corruption, view.severity) == ("imagenet_a", 0)
    assert subset.dtype == np.int64 and subset.tolist() == [0, 2, 4]
    assert view.labels.dtype == np.int64 and view.labels.tolist() == [0, 2, 4, 4]
    assert view.images.dtype == np.uint8 and view.images.shape == (4, 3, 8, 8)
    np.testing.assert_allclose(view.images.reshape(4, 3, -1).mean(axis=2), [GREEN, BLUE, RED, RED], atol=3)


def test_imagenet_a_unknown_wnid_and_missing_root(tmp_path: Path) -> None:
    write_fake_imagenet_a(tmp_path)
    with pytest.raises(DatasetCorrupt, match=WNIDS[4]):
        load_imagenet_a(tmp_path, WNIDS[:4])
    with pytest.raises(DatasetUnavailable) as info:
        load_imagenet_a(tmp_path / "nowhere", WNIDS)
    assert f"{tmp_path / 'nowhere' / 'imagenet-a'}/<wnid>/<image>" in str(info.value)


def test_restricted_predictions_ignore_classes_outside_the_subset() -> None:
    logits = np.array(
        [
            [9.0, 1.0, 0.0, 3.0, 2.0],  # global argmax 0 (outside); best in subset: 3
            [0.0, 5.0, 9.0, 1.0, 6.0],  # global argmax 2 (outside); best in subset: 4
            [0.0, 7.0, 0.0, 1.0, 2.0],  # global argmax 1, inside the subset
        ]
    )
    subset = np.array([1, 3, 4])
    assert np.argmax(logits, axis=1).tolist() == [0, 2, 1]
    predictions = restricted_predictions(logits, subset)
    assert predictions.dtype == np.int64 and predictions.tolist() == [3, 4, 1]
    with pytest.raises(ValueError, match="subset"):
        restricted_predictions(logits, np.array([1, 5]))
