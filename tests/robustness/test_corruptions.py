from __future__ import annotations

import itertools

import pytest
import torch
from torchvision.transforms.v2 import functional as F

from pipeline.robustness.corruptions import CORRUPTIONS, FAMILIES, SEVERITIES, corrupt, get, names

# Corruptions that draw from the generator (the others are deterministic functions of the image).
RANDOM = {
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "speckle_noise",
    "motion_blur",
    "elastic",
    "rotate",
    "shear",
    "translate",
}
SHAPES = [(24, 1, 28), (8, 3, 32), (2, 3, 224)]  # (images, channels, side): Fashion-MNIST to ImageNet


def smooth_images(n: int, channels: int, side: int) -> torch.Tensor:
    """Seeded low-frequency images in [0.1, 0.9]: natural-image-like, away from the clipping bounds."""
    x = torch.rand(n, channels, side, side, generator=torch.Generator().manual_seed(1))
    sigma = side / 8
    size = 2 * int(3 * sigma) + 1
    x = F.gaussian_blur(x, [size, size], [sigma, sigma])
    low = x.amin(dim=(1, 2, 3), keepdim=True)
    high = x.amax(dim=(1, 2, 3), keepdim=True)
    return 0.1 + 0.8 * (x - low) / (high - low)


def test_the_suite_covers_every_family_with_five_severities() -> None:
    assert len(CORRUPTIONS) >= 15
    assert {c.family for c in CORRUPTIONS.values()} == set(FAMILIES)
    assert all(len(c.parameters) == len(SEVERITIES) for c in CORRUPTIONS.values())
    assert set(names()) > RANDOM


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[1]}x{s[2]}")
@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_shape_range_determinism_and_growing_distortion(name: str, shape: tuple[int, int, int]) -> None:
    x = smooth_images(*shape)
    before = x.clone()
    distortion = []
    for severity in SEVERITIES:
        y = corrupt(x, name, severity, seed=7)
        assert y.shape == x.shape and y.dtype == x.dtype
        assert y.min() >= 0.0 and y.max() <= 1.0
        assert torch.equal(y, corrupt(x, name, severity, seed=7))  # deterministic for a seed
        distortion.append((y - x).abs().mean().item())
    assert torch.equal(x, before)  # the input is not modified
    assert distortion[0] > 0, f"{name}: severity 1 changes nothing"
    assert all(b > a for a, b in itertools.pairwise(distortion)), f"{name}: {distortion}"


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_corruptions_depend_on_the_seed(name: str) -> None:
    x = smooth_images(8, 1, 28)
    assert not torch.equal(corrupt(x, name, 3, seed=0), corrupt(x, name, 3, seed=1))


def test_deterministic_corruptions_ignore_the_seed() -> None:
    x = smooth_images(4, 3, 32)
    for name in set(CORRUPTIONS) - RANDOM:
        assert torch.equal(corrupt(x, name, 2, seed=0), corrupt(x, name, 2, seed=1)), name


def test_images_are_corrupted_independently_of_their_batch() -> None:
    """A corruption without random draws treats each image on its own: splitting the batch changes
    nothing (random ones draw per batch position, so a batch is a pure function of batch and seed)."""
    x = smooth_images(6, 1, 28)
    whole = corrupt(x, "gaussian_blur", 3, seed=0)
    halves = torch.cat(
        [corrupt(x[:3], "gaussian_blur", 3, seed=0), corrupt(x[3:], "gaussian_blur", 3, seed=0)]
    )
    assert torch.allclose(whole, halves)


def test_clear_errors() -> None:
    x = smooth_images(2, 1, 28)
    with pytest.raises(KeyError, match=r"unknown corruption 'fog'; allowed: gaussian_noise, shot_noise"):
        get("fog")
    with pytest.raises(ValueError, match=r"severity must be one of \[1, 2, 3, 4, 5\], got 6"):
        corrupt(x, "contrast", 6, seed=0)
    with pytest.raises(ValueError, match=r"float \(N, 1 or 3, H, W\) tensor"):
        corrupt((x * 255).to(torch.uint8), "contrast", 1, seed=0)
