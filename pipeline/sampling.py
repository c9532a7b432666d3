"""Fixed, seeded samples of the test split: the same images for every model and every config."""

from __future__ import annotations

import numpy as np


def sample_indices(total: int, size: int, seed: int) -> np.ndarray:
    """``size`` distinct indices of ``range(total)``, drawn with ``seed`` and sorted (int64); ``size`` 0 or
    at least ``total``: all of them."""
    if total < 0 or size < 0:
        raise ValueError(f"total and size must be >= 0, got {total} and {size}")
    if size == 0 or size >= total:
        return np.arange(total, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(total, size=size, replace=False)).astype(np.int64)
