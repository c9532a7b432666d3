"""Fashion-MNIST (Xiao et al. 2017): 60k/10k 28x28 grayscale images of 10 clothing classes.

Sources, in order: decompressed IDX files already under ``root/FashionMNIST/raw`` (torchvision's layout),
the Debian package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist/*.gz``, decompressed into
that folder), then torchvision's download.  Each decompressed file is verified against the SHA-256 of the
official release before torchvision's own loader reads it.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.data.base import DatasetCorrupt, DatasetUnavailable, RawDataset, Split, check_split

if TYPE_CHECKING:
    from pipeline.config import PrepareParams

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

# SHA-256 of the decompressed IDX files of the official release (identical in the Debian package and in
# torchvision's download; the .gz files differ between the two, their content does not).
SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def raw_folder(root: Path) -> Path:
    """Where torchvision's FashionMNIST class looks for the decompressed files."""
    return root / "FashionMNIST" / "raw"


def _have_all(folder: Path) -> bool:
    return all((folder / name).is_file() for name in SHA256)


def _decompress_from(source: Path, folder: Path) -> None:
    """Decompress ``source/*.gz`` into ``folder``, each file written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in SHA256:
        tmp = folder / f".{name}.part"
        with gzip.open(source / f"{name}.gz", "rb") as src, tmp.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        tmp.replace(folder / name)


def _download(root: Path) -> None:
    from torchvision.datasets import FashionMNIST

    try:
        FashionMNIST(str(root), train=True, download=True)
    except Exception as err:  # torchvision raises URLError, RuntimeError or OSError when offline
        raise DatasetUnavailable(
            f"fashion_mnist: no local copy and the download failed ({type(err).__name__}: {err}). "
            f"Install the Debian package (apt-get install dataset-fashion-mnist, files in {DEBIAN_DIR}) "
            f"or run once where the network is reachable so torchvision downloads it into {root}"
        ) from None


def fetch(root: Path, allow_download: bool) -> str:
    """Make the four decompressed IDX files present under ``raw_folder(root)``; return their source."""
    folder, debian_dir = raw_folder(root), DEBIAN_DIR
    if _have_all(folder):
        return str(folder)
    if all((debian_dir / f"{name}.gz").is_file() for name in SHA256):
        _decompress_from(debian_dir, folder)
        return str(debian_dir)
    if not allow_download:
        raise DatasetUnavailable(
            f"fashion_mnist: not found in {folder} or {debian_dir}. Install the Debian package "
            "(apt-get install dataset-fashion-mnist) or set prepare.allow_download: true where the network "
            "is reachable so torchvision downloads it"
        )
    _download(root)
    return "torchvision download"


def verify(folder: Path) -> None:
    """Raise DatasetCorrupt unless every decompressed file has its official SHA-256."""
    for name, digest in SHA256.items():
        actual = sha256_file(folder / name)
        if actual != digest:
            raise DatasetCorrupt(
                f"fashion_mnist: {folder / name} has SHA-256 {actual}, expected {digest}; "
                "delete the folder and run the prepare stage again"
            )


def read(root: Path, source: str) -> RawDataset:
    """Read the verified files with torchvision's own loader."""
    from torchvision.datasets import FashionMNIST

    splits = {}
    for name, train in (("train", True), ("test", False)):
        ds = FashionMNIST(str(root), train=train, download=False)
        images = ds.data.numpy()[:, None, :, :]  # (N, 1, 28, 28) uint8
        labels = ds.targets.numpy().astype(np.int64)
        splits[name] = Split(np.ascontiguousarray(images), labels)
        check_split(splits[name], len(ds.classes), f"fashion_mnist {name}")
    return RawDataset(
        "fashion_mnist", tuple(FashionMNIST.classes), splits["train"], splits["test"], source=source
    )


def load(root: Path, cfg: PrepareParams) -> RawDataset:
    """Fetch, verify and read Fashion-MNIST; ``cfg.image_size`` must be unset or 28."""
    if cfg.image_size not in (None, 28):
        from pipeline.config import ConfigError

        raise ConfigError(f"prepare.image_size: fashion_mnist is 28x28; use null or 28, got {cfg.image_size}")
    source = fetch(root, cfg.allow_download)
    verify(raw_folder(root))
    return read(root, source)
