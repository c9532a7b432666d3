"""Dataset registry: a params name (``prepare.dataset``) to the loader that reads that dataset's files.

Loaders import torchvision lazily, so looking a name up costs nothing.
"""

from __future__ import annotations

from pipeline.data import celeba, cifar10, fashion_mnist, gtsrb, imagefolder, synthetic
from pipeline.data.base import Loader

DATASETS: dict[str, Loader] = {
    "fashion_mnist": fashion_mnist.load,
    "cifar10": cifar10.load,
    "gtsrb": gtsrb.load,
    "celeba": celeba.load,
    "imagefolder": imagefolder.load,
    "synthetic": synthetic.load,
}


def get_loader(name: str) -> Loader:
    """The loader registered as ``name``; a KeyError lists the valid names."""
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; allowed: {', '.join(sorted(DATASETS))}") from None
