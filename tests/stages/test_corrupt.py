"""The corrupted test views predict@config builds (SPEC sections 6 and 10)."""

from __future__ import annotations

import numpy as np
import torch

from pipeline.config import RobustnessConfig
from pipeline.robustness.corruptions import corrupt
from pipeline.stages.predict import corrupted_images


def images(n: int = 30) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(0).integers(0, 256, (n, 1, 16, 16), dtype=np.uint8))


def test_views_sample_and_corrupt_like_the_suite() -> None:
    cfg = RobustnessConfig(corruptions=("rotate", "gaussian_noise"), severities=(3, 1), sample_size=8, seed=4)
    x = images()
    views = corrupted_images(x, cfg)
    assert list(views) == ["gaussian_noise-1", "gaussian_noise-3", "rotate-1", "rotate-3"]
    index, noisy = views["gaussian_noise-3"]
    assert index.size == 8 and np.all(np.diff(index) > 0)
    assert all(np.array_equal(i, index) for i, _ in views.values())  # one sample for every view
    assert noisy.dtype == torch.uint8 and noisy.shape == (8, 1, 16, 16)
    expected = corrupt(x[torch.from_numpy(index)].float() / 255, "gaussian_noise", 3, 4)
    assert torch.equal(noisy, (expected * 255).round().to(torch.uint8))
    assert not torch.equal(noisy, x[torch.from_numpy(index)])


def test_views_are_deterministic_and_sample_zero_means_all() -> None:
    cfg = RobustnessConfig(corruptions=("shot_noise",), severities=(5,), sample_size=0)
    a, b = corrupted_images(images(), cfg), corrupted_images(images(), cfg)
    assert np.array_equal(a["shot_noise-5"][0], np.arange(30))
    assert torch.equal(a["shot_noise-5"][1], b["shot_noise-5"][1])
