"""CIFAR-10 loader on tiny fake pickles shaped like the real cifar-10-batches-py files."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest

from pipeline.config import PrepareParams
from pipeline.data import cifar10
from pipeline.data.base import DatasetCorrupt, DatasetUnavailable

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
BATCHES = {f"data_batch_{i}": 2 for i in range(1, 6)} | {"test_batch": 3}


def _pickle(path: Path, entry: dict) -> None:
    with path.open("wb") as handle:
        pickle.dump(entry, handle)


def write_fake_cifar(root: Path, seed: int = 0) -> dict[str, tuple[np.ndarray, list[int]]]:
    """The six batch files and batches.meta with the real keys; returns {batch: (data (n, 3072), labels)}."""
    rng = np.random.default_rng(seed)
    folder = root / cifar10.FOLDER
    folder.mkdir(parents=True)
    written = {}
    for name, n in BATCHES.items():
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)  # rows: 1024 R, 1024 G, 1024 B
        labels = rng.integers(0, 10, size=n).tolist()
        _pickle(folder / name, {"batch_label": name, "labels": labels, "data": data, "filenames": [""] * n})
        written[name] = (data, labels)
    _pickle(folder / "batches.meta", {"label_names": CLASSES, "num_cases_per_batch": 10000, "num_vis": 3072})
    return written


@pytest.fixture
def no_md5(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake files cannot match the real MD5s: check existence only, as torchvision's own tests do."""
    import torchvision.datasets.cifar

    monkeypatch.setattr(
        torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: os.path.isfile(path)
    )


def cfg(**overrides: object) -> PrepareParams:
    return PrepareParams(dataset="cifar10", allow_download=False, **overrides)  # type: ignore[arg-type]


@pytest.mark.parametrize("image_size", [None, 32])
def test_pickled_pixels_and_labels_come_back_as_nchw(
    tmp_path: Path, no_md5: None, image_size: int | None
) -> None:
    written = write_fake_cifar(tmp_path)
    ds = cifar10.load(tmp_path, cfg(image_size=image_size))

    train_data = np.concatenate([written[f"data_batch_{i}"][0] for i in range(1, 6)])
    train_labels = [label for i in range(1, 6) for label in written[f"data_batch_{i}"][1]]
    assert ds.name == "cifar10" and ds.class_names == tuple(CLASSES)
    assert ds.source == str(tmp_path / "cifar-10-batches-py")
    assert ds.train.images.dtype == np.uint8 and ds.train.images.shape == (10, 3, 32, 32)
    np.testing.assert_array_equal(ds.train.images, train_data.reshape(10, 3, 32, 32))
    np.testing.assert_array_equal(ds.test.images, written["test_batch"][0].reshape(3, 3, 32, 32))
    assert ds.train.labels.dtype == np.int64 and ds.train.labels.tolist() == train_labels
    assert ds.test.labels.tolist() == written["test_batch"][1]
    assert ds.train.attributes is None and ds.attribute_names == ()


def test_image_size_resizes(tmp_path: Path, no_md5: None) -> None:
    write_fake_cifar(tmp_path)
    ds = cifar10.load(tmp_path, cfg(image_size=16))
    assert ds.train.images.shape == (10, 3, 16, 16) and ds.test.images.shape == (3, 3, 16, 16)
    assert ds.train.images.dtype == np.uint8


def test_label_outside_the_classes_is_corrupt(tmp_path: Path, no_md5: None) -> None:
    write_fake_cifar(tmp_path)
    data = np.zeros((1, 3072), dtype=np.uint8)
    _pickle(tmp_path / cifar10.FOLDER / "test_batch", {"labels": [10], "data": data})
    with pytest.raises(DatasetCorrupt, match="cifar10 test"):
        cifar10.load(tmp_path, cfg())


def test_missing_files_name_the_root_and_the_fixes(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable) as info:
        cifar10.load(tmp_path, cfg())
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path) in message and "cifar-10-batches-py" in message
    assert "prepare.root" in message and "prepare.allow_download: true" in message


def test_failed_download_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets.cifar

    def offline(*args: object, **kwargs: object) -> None:
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", offline)
    with pytest.raises(DatasetUnavailable, match=r"prepare\.allow_download is True.*name resolution"):
        cifar10.load(tmp_path, PrepareParams(dataset="cifar10", allow_download=True))
