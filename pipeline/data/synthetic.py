"""A tiny generated dataset for tests and smoke runs: learnable, deterministic, any shape.

Each class has a smooth random prototype; an example is its class prototype plus per-pixel noise and a
random brightness offset, so a small CNN separates the classes within one epoch while examples still
differ.  The same ``prepare.synthetic`` section always generates the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.data.base import RawDataset, Split

if TYPE_CHECKING:
    from pipeline.config import PrepareParams, SyntheticParams

SEED = 20191112  # fixed: the dataset is part of the code, not of an experiment


def prototypes(cfg: SyntheticParams, rng: np.random.Generator) -> np.ndarray:
    """(K, C, S, S) float prototypes in [0, 255]: coarse random grids upsampled to the image size."""
    coarse = rng.uniform(0, 255, size=(cfg.num_classes, cfg.channels, 4, 4))
    reps = -(-cfg.image_size // 4)  # ceil division
    fine = coarse.repeat(reps, axis=2).repeat(reps, axis=3)
    return fine[:, :, : cfg.image_size, : cfg.image_size]


def sample(protos: np.ndarray, n: int, rng: np.random.Generator) -> Split:
    """``n`` examples with balanced labels (cycled) from the class prototypes."""
    k = protos.shape[0]
    labels = np.arange(n, dtype=np.int64) % k
    rng.shuffle(labels)
    noise = rng.normal(0, 40, size=(n, *protos.shape[1:]))
    offset = rng.normal(0, 20, size=(n, 1, 1, 1))
    images = np.clip(protos[labels] + noise + offset, 0, 255).astype(np.uint8)
    return Split(images, labels)


def generate(cfg: SyntheticParams) -> RawDataset:
    rng = np.random.default_rng(SEED)
    protos = prototypes(cfg, rng)
    train = sample(protos, cfg.train_size, rng)
    test = sample(protos, cfg.test_size, rng)
    names = tuple(f"class_{i}" for i in range(cfg.num_classes))
    return RawDataset("synthetic", names, train, test, source="generated")


def load(root: Path, cfg: PrepareParams) -> RawDataset:
    """Generate the dataset; ``root`` is unused (nothing is read)."""
    return generate(cfg.synthetic)
