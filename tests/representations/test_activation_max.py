from __future__ import annotations

import numpy as np
import torch

from pipeline.compression.quantization import quantize
from pipeline.config import QuantSpec
from pipeline.models.layers import last_conv
from pipeline.models.member import Member
from pipeline.models.registry import build_model
from pipeline.representations.activation_max import maximize_units, unit_activation


def member() -> Member:
    torch.manual_seed(0)
    return Member(build_model("small_cnn", 1, 4, 16), torch.tensor([0.5]), torch.tensor([0.25])).eval()


def test_ascent_raises_each_units_activation_and_is_deterministic() -> None:
    model = member()
    layer = last_conv(model)
    units = [0, 3, 5]
    images = maximize_units(model, layer, units, (1, 16, 16), steps=40, seed=1)
    assert images.shape == (3, 1, 16, 16) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    start = 0.5 + (torch.rand((3, 1, 16, 16), generator=torch.Generator().manual_seed(1)) - 0.5) * 0.1
    with torch.no_grad():
        before = unit_activation(model, layer, start, units)
        after = unit_activation(model, layer, torch.from_numpy(images), units)
    assert (after > before).all() and (after - before).max() > 0.3, (before, after)
    np.testing.assert_array_equal(images, maximize_units(model, layer, units, (1, 16, 16), steps=40, seed=1))
    assert all(p.requires_grad for p in model.parameters())  # the model is left as it was


def test_quantized_members_can_be_maximized_through_the_straight_through_estimator() -> None:
    dense = member()
    calibration = torch.rand(64, 1, 16, 16, generator=torch.Generator().manual_seed(3))
    quant = quantize(dense, calibration, QuantSpec(method="int8_static", calibration_size=64))
    layer = last_conv(quant)
    images = maximize_units(quant, layer, [1], (1, 16, 16), steps=30, seed=2)
    start = 0.5 + (torch.rand((1, 1, 16, 16), generator=torch.Generator().manual_seed(2)) - 0.5) * 0.1
    with torch.no_grad():
        assert unit_activation(quant, layer, torch.from_numpy(images), [1]) > unit_activation(
            quant, layer, start, [1]
        )


def test_adam_step_matches_torch_adam() -> None:
    import torch

    from pipeline.representations.activation_max import adam_step

    gen = torch.Generator().manual_seed(0)
    x = torch.rand(3, 5, generator=gen)
    ours, theirs = x.clone(), x.clone().requires_grad_(True)
    opt = torch.optim.Adam([theirs], lr=0.05)
    m, v, count = torch.zeros_like(x), torch.zeros_like(x), torch.tensor(0.0)
    for _ in range(20):
        grad = torch.randn(3, 5, generator=gen)
        adam_step(ours, grad, m, v, count, 0.05)
        theirs.grad = grad.clone()
        opt.step()
        assert torch.equal(ours, theirs.detach())
    assert count.item() == 20
