"""Fixed, seeded samples of the test split: the same images for every model and every config."""

from __future__ import annotations

import numpy as np

from pipeline.errors import ConfigError


def sample_indices(total: int, size: int, seed: int, key: str = "sample_size") -> np.ndarray:
    """``size`` distinct indices of ``range(total)``, drawn with ``seed`` and sorted (int64); ``size`` 0:
    all of them.  A ``size`` above ``total`` is a ConfigError naming ``key``, the params option it comes
    from: cutting it to ``total`` would report a sample the study never took."""
    if total < 0 or size < 0:
        raise ValueError(f"total and size must be >= 0, got {total} and {size}")
    if size > total:
        raise ConfigError(
            f"{key}: {size} is more than the {total} test images; use at most {total}, or 0: all"
        )
    if size == 0 or size == total:
        return np.arange(total, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(total, size=size, replace=False)).astype(np.int64)
