"""The corrupted test views of a study (the ``corrupt`` stage's work, SPEC section 10): every
(corruption, severity) of the ``corrupt`` params applied to one fixed seeded sample of the test split and
rounded back to uint8, as the published corrupted datasets store them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.config import CorruptParams
from pipeline.robustness import corrupted_views, view_name

if TYPE_CHECKING:
    import torch


def corrupted_images(images: torch.Tensor, cfg: CorruptParams) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(test-split indices of the sample, in increasing order; view name -> uint8 (N, C, H, W) images) of
    every corrupted view of the study; ``images`` is the uint8 (N, C, H, W) test split."""
    import torch

    from pipeline.pixels import to_uint8, to_unit
    from pipeline.progress import progress
    from pipeline.robustness.corruptions import corrupt
    from pipeline.sampling import sample_indices

    index = sample_indices(images.shape[0], cfg.sample_size, cfg.seed, "corrupt.sample_size")
    clean = to_unit(images[torch.from_numpy(index)])  # (N, C, H, W) in [0, 1]
    views = {}
    wanted = corrupted_views(cfg.corruptions, cfg.severities)
    for name, severity in progress(wanted, total=len(wanted), desc="corrupted views"):
        x = corrupt(clean, name, severity, cfg.seed)
        views[view_name(name, severity)] = to_uint8(x).numpy()
    return index, views


def summary_line(index: np.ndarray, views: dict[str, np.ndarray], cfg: CorruptParams, seconds: float) -> str:
    from pipeline.numbers import fmt

    return f"{len(views)} corrupted views of {index.size} test images (seed {cfg.seed}), {fmt(seconds, 1)} s"
