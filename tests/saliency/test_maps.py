from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from pipeline.compression.quantization import quantize
from pipeline.config import QuantSpec
from pipeline.models.layers import last_conv
from pipeline.models.member import Member
from pipeline.models.registry import build_model
from pipeline.saliency.maps import METHODS, normalize_maps, saliency_maps


def linear_model(weights: torch.Tensor) -> nn.Module:
    """f(x) = W flatten(x), no bias: the gradient of class c is W_c everywhere."""
    k = weights.shape[0]
    layer = nn.Linear(weights.shape[1], k, bias=False)
    with torch.no_grad():
        layer.weight.copy_(weights)
    return nn.Sequential(nn.Flatten(), layer)


def images(n: int = 4, channels: int = 1, side: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, channels, side, side, generator=torch.Generator().manual_seed(seed))


def test_vanilla_gradient_of_a_linear_model_is_its_weights() -> None:
    w = torch.randn(3, 2 * 8 * 8, generator=torch.Generator().manual_seed(1))
    x = images(4, channels=2)
    targets = torch.tensor([0, 1, 2, 1])
    maps = saliency_maps(linear_model(w), x, targets, "gradient")
    for n, c in enumerate(targets.tolist()):
        expected = w[c].reshape(2, 8, 8).abs().amax(dim=0)
        np.testing.assert_allclose(maps[n], (expected / expected.max()).numpy(), rtol=1e-5)


def test_integrated_gradients_of_a_linear_model_is_input_times_weights() -> None:
    w = torch.randn(2, 64, generator=torch.Generator().manual_seed(2))
    x = images(3)
    targets = torch.tensor([1, 0, 1])
    maps = saliency_maps(linear_model(w), x, targets, "integrated_gradients", steps=8)
    for n, c in enumerate(targets.tolist()):
        expected = (x[n, 0] * w[c].reshape(8, 8)).abs()
        np.testing.assert_allclose(maps[n], (expected / expected.max()).numpy(), rtol=1e-4, atol=1e-6)


def member() -> Member:
    torch.manual_seed(0)
    return Member(build_model("small_cnn", 1, 4, 16), torch.tensor([0.5]), torch.tensor([0.25])).eval()


@pytest.mark.parametrize("method", METHODS)
def test_maps_are_per_image_in_unit_range(method: str) -> None:
    x = images(5, side=16)
    maps = saliency_maps(member(), x, torch.tensor([0, 1, 2, 3, 0]), method, batch_size=2)
    assert maps.shape == (5, 16, 16) and maps.dtype == np.float32
    assert maps.min() >= 0.0 and np.allclose(maps.reshape(5, -1).max(axis=1), 1.0)
    again = saliency_maps(member(), x, torch.tensor([0, 1, 2, 3, 0]), method, batch_size=5)
    np.testing.assert_allclose(maps, again, rtol=1e-5, atol=1e-6)  # batching does not change a map


def test_quantized_members_get_gradients_through_the_straight_through_estimator() -> None:
    dense = member()
    calibration = images(64, side=16, seed=3)
    quant = quantize(dense, calibration, QuantSpec(method="int8_static", calibration_size=64))
    x = images(4, side=16, seed=4)
    targets = torch.tensor([0, 1, 2, 3])
    q_maps = saliency_maps(quant, x, targets, "gradient")
    d_maps = saliency_maps(dense, x, targets, "gradient")
    assert np.isfinite(q_maps).all() and (q_maps.reshape(4, -1).max(axis=1) == 1.0).all()
    # int8 numerics move the maps only a little: the straight-through gradient follows the float one.
    assert np.abs(q_maps - d_maps).mean() < 0.1


def test_grad_cam_uses_the_last_conv_layer() -> None:
    model = member()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert last_conv(model) is convs[-1]
    with pytest.raises(ValueError, match="no"):
        last_conv(linear_model(torch.zeros(2, 4)))


def test_normalize_keeps_zero_maps_zero() -> None:
    maps = normalize_maps(torch.zeros(2, 3, 4, 4))
    assert maps.shape == (2, 4, 4) and not maps.any()


def test_unknown_method_lists_the_allowed_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown saliency method 'lime'; allowed: gradient, integrated_gradients"
    ):
        saliency_maps(member(), images(1, side=16), torch.tensor([0]), "lime")
