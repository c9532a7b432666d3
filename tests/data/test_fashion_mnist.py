"""Fashion-MNIST from fake IDX files shaped like the real ones (the way torchvision tests its datasets)."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import PrepareParams
from pipeline.data import fashion_mnist as fm
from pipeline.data.base import DatasetCorrupt, DatasetUnavailable

N_TRAIN, N_TEST = 6, 4


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX format: magic (0, 0, dtype 0x08 = ubyte, ndim), big-endian sizes, then the raw bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def fake_debian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (N_TRAIN, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(N_TRAIN) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (N_TEST, 28, 28)),
        "t10k-labels-idx1-ubyte": np.array([9, 0, 3, 3]),
    }
    debian = tmp_path / "debian"
    debian.mkdir()
    shas = {}
    for name, array in arrays.items():
        content = idx_bytes(array)
        (debian / f"{name}.gz").write_bytes(gzip.compress(content))
        shas[name] = hashlib.sha256(content).hexdigest()
    monkeypatch.setattr(fm, "DEBIAN_DIR", debian)
    monkeypatch.setattr(fm, "SHA256", shas)
    return arrays


def test_reads_debian_files_through_torchvision(tmp_path: Path, fake_debian: dict[str, np.ndarray]) -> None:
    data = fm.load(tmp_path / "raw", PrepareParams(allow_download=False))
    assert data.train.images.shape == (N_TRAIN, 1, 28, 28) and data.train.images.dtype == np.uint8
    np.testing.assert_array_equal(data.train.images[:, 0], fake_debian["train-images-idx3-ubyte"])
    assert data.test.labels.tolist() == [9, 0, 3, 3]
    assert data.class_names[0] == "T-shirt/top" and len(data.class_names) == 10
    assert data.source == str(fm.DEBIAN_DIR)
    # Second call: the decompressed copy is found and used.
    assert fm.load(tmp_path / "raw", PrepareParams(allow_download=False)).source.endswith("FashionMNIST/raw")


def test_checksum_mismatch_is_reported(
    tmp_path: Path, fake_debian: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(fm.SHA256, "t10k-labels-idx1-ubyte", "0" * 64)
    with pytest.raises(DatasetCorrupt, match="t10k-labels-idx1-ubyte has SHA-256"):
        fm.load(tmp_path / "raw", PrepareParams(allow_download=False))


def test_missing_everywhere_names_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fm, "DEBIAN_DIR", tmp_path / "nowhere")
    with pytest.raises(DatasetUnavailable) as info:
        fm.load(tmp_path / "raw", PrepareParams(allow_download=False))
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message and "allow_download" in message


def test_failed_download_names_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets

    def offline(*args: object, **kwargs: object) -> None:
        raise OSError("network unreachable")

    monkeypatch.setattr(fm, "DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    with pytest.raises(
        DatasetUnavailable, match=r"download failed .*network unreachable.*dataset-fashion-mnist"
    ):
        fm.load(tmp_path / "raw", PrepareParams(allow_download=True))


def test_real_checksums_are_pinned() -> None:
    assert set(fm.SHA256) == {
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    }
    assert all(len(v) == 64 for v in fm.SHA256.values())
