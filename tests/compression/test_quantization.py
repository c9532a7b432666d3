from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from pipeline.compression.quantization import (
    QUANTIZERS,
    QuantConv2d,
    QuantLinear,
    StaticActQuant,
    affine_qparams,
    fake_quant,
    fake_quant_reference,
    fold_batchnorm,
    prepare_structure,
    quantize,
    quantized_layers,
)
from pipeline.config import QUANT_METHODS, QuantSpec
from pipeline.models.member import Member
from pipeline.models.registry import build_model

METHODS = list(QUANTIZERS)
ARCHS = ["small_cnn", "lenet5"]
# relative L2 error of the logits against the float model, on random images and random weights
REL_ERROR = {"fp16": 2e-3, "bf16": 1e-2, "int8_dynamic": 5e-2, "int8_static": 5e-2, "int4_weight": 0.3}


def images(n: int = 64, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))  # (N, 1, 28, 28)


def member(arch: str = "small_cnn", seed: int = 0) -> Member:
    """A member whose BatchNorms hold non-trivial statistics and affine parameters (eval mode)."""
    torch.manual_seed(seed)
    model = Member(build_model(arch, 1, 10, 28), torch.tensor([0.3]), torch.tensor([0.4]))
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
        model.train()
        for _ in range(3):
            model(images(32, seed=7))
    return model.eval()


def quantized(arch: str, method: str, bits: int | None = None) -> tuple[Member, nn.Module, QuantSpec]:
    spec = QuantSpec(method=method, weight_bits=bits)
    model = member(arch)
    return model, quantize(model, images(128, seed=2), spec), spec


def layers(model: nn.Module) -> dict[str, QuantConv2d | QuantLinear]:
    return {n: m for n, m in model.named_modules() if isinstance(m, QuantConv2d | QuantLinear)}


def test_registry_covers_the_config_methods() -> None:
    assert set(QUANTIZERS) == set(QUANT_METHODS)


def test_unknown_method_lists_the_valid_names() -> None:
    with pytest.raises(KeyError, match="int8_static"):
        quantize(member(), None, QuantSpec(method="int3"))
    with pytest.raises(KeyError, match="fp16"):
        prepare_structure(member(), QuantSpec(method="int3"))


def test_static_needs_calibration_and_the_matching_spec() -> None:
    with pytest.raises(ValueError, match="calibration"):
        quantize(member(), None, QuantSpec(method="int8_static"))
    with pytest.raises(ValueError, match="fp16"):
        QUANTIZERS["int8_static"](member(), images(), QuantSpec(method="fp16"))


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("method", METHODS)
def test_outputs_stay_close_to_the_float_model(arch: str, method: str) -> None:
    model, q, _ = quantized(arch, method)
    x = images()
    with torch.no_grad():
        ref, out = model(x), q(x)  # (N, 10)
    assert out.shape == ref.shape
    assert ((out - ref).norm() / ref.norm()).item() < REL_ERROR[method]
    assert (out.argmax(1) == ref.argmax(1)).float().mean().item() >= 0.75


@pytest.mark.parametrize("method", METHODS)
def test_quantizing_leaves_the_input_model_untouched(method: str) -> None:
    model = member()
    before = copy.deepcopy(model.state_dict())
    quantize(model, images(), QuantSpec(method=method))
    assert model.state_dict().keys() == before.keys()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())


@pytest.mark.parametrize(
    ("method", "bits"),
    [
        ("int8_dynamic", None),
        ("int8_static", None),
        ("int4_weight", None),
        ("int4_weight", 3),
        ("int4_weight", 2),
    ],
)
def test_integer_weights_lie_on_a_symmetric_per_channel_grid(method: str, bits: int | None) -> None:
    _, q, spec = quantized("small_cnn", method, bits)
    qmax = 2 ** (spec.bits - 1) - 1
    for layer in layers(q).values():
        w = layer.weight.detach().flatten(1)  # (C_out, fan_in)
        scale = w.abs().amax(1, keepdim=True) / qmax  # (C_out, 1): the largest |w| sits on qmax
        steps = w / scale
        assert torch.allclose(steps, steps.round(), atol=1e-3)
        assert max(len(row.unique()) for row in w) <= 2**spec.bits - 1
        assert layer.weight_bits == spec.bits


@pytest.mark.parametrize(("method", "dtype"), [("fp16", torch.float16), ("bf16", torch.bfloat16)])
def test_float_formats_round_weights_and_biases_to_their_dtype(method: str, dtype: torch.dtype) -> None:
    _, q, _ = quantized("small_cnn", method)
    for layer in layers(q).values():
        for p in (layer.weight, layer.bias):
            assert p is not None and p.dtype == torch.float32
            assert torch.equal(p, p.to(dtype).float())


@pytest.mark.parametrize("method", METHODS)
def test_pruned_zeros_stay_exactly_zero(method: str) -> None:
    model = member()
    generator = torch.Generator().manual_seed(3)
    masks = {}
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                masks[f"{name}.weight"] = torch.rand(m.weight.shape, generator=generator) < 0.7
                m.weight[masks[f"{name}.weight"]] = 0.0
    q = quantize(model, images(), QuantSpec(method=method))
    state = q.state_dict()
    for name, pruned in masks.items():
        assert (state[name][pruned] == 0).all(), name


def test_folding_batchnorm_keeps_the_outputs() -> None:
    model = member("small_cnn")
    folded = fold_batchnorm(copy.deepcopy(model))
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in folded.modules())
    assert all(m.bias is not None for m in folded.modules() if isinstance(m, nn.Conv2d | nn.Linear))
    x = images()
    with torch.no_grad():
        torch.testing.assert_close(folded(x), model(x), atol=1e-5, rtol=1e-5)


class Untraceable(nn.Module):
    """Data-dependent control flow defeats torch.fx: folding falls back to nn.Sequential neighbours."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) if x.sum() > 0 else self.body(-x)


def test_folding_falls_back_to_sequential_neighbours_when_untraceable() -> None:
    torch.manual_seed(0)
    model = Untraceable()
    bn = model.body[1]
    assert isinstance(bn, nn.BatchNorm2d) and bn.running_mean is not None and bn.running_var is not None
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    model.eval()
    x = images(4)
    q = quantize(model, x, QuantSpec(method="int8_static"))
    assert isinstance(q.get_submodule("body.1"), nn.Identity)
    assert isinstance(q.get_submodule("body.0.relu"), nn.ReLU)
    with torch.no_grad():
        torch.testing.assert_close(fold_batchnorm(copy.deepcopy(model))(x), model(x), atol=1e-5, rtol=1e-5)


def test_static_fuses_the_relu_that_follows_each_layer() -> None:
    _, q, _ = quantized("small_cnn", "int8_static")
    fused = {n: isinstance(m.relu, nn.ReLU) for n, m in layers(q).items()}
    assert fused == {
        "net.features.0.0": True,
        "net.features.1.0": True,
        "net.head.1": True,
        "net.classifier": False,
    }


def test_static_calibration_is_deterministic_and_frozen() -> None:
    _, q1, _ = quantized("small_cnn", "int8_static")
    _, q2, _ = quantized("small_cnn", "int8_static")
    s1, s2 = q1.state_dict(), q2.state_dict()
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    ranges = {k: v.clone() for k, v in s1.items() if k.endswith(("scale", "zero_point"))}
    assert len(ranges) == 2 * 2 * 4  # input and output quantizer of 4 layers
    with torch.no_grad():
        q1(3.0 * images(16, seed=9))
    assert all(torch.equal(q1.state_dict()[k], v) for k, v in ranges.items())
    assert not any(m.observed is not None for m in q1.modules() if isinstance(m, StaticActQuant))


@pytest.mark.parametrize("method", ["int8_dynamic", "int4_weight"])
def test_dynamic_ranges_are_per_example(method: str) -> None:
    _, q, _ = quantized("small_cnn", method)
    x = images(8)
    x[1:] *= 3.0  # neighbours with a much wider range must not change the first image's quantization
    with torch.no_grad():
        torch.testing.assert_close(q(x)[:1], q(x[:1]), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_gradients_flow_straight_through(method: str) -> None:
    _, q, _ = quantized("small_cnn", method)
    x = images(8).requires_grad_(True)
    q(x).logsumexp(1).sum().backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("method", METHODS)
def test_checkpoint_round_trip(arch: str, method: str) -> None:
    _, q, spec = quantized(arch, method)
    fresh = prepare_structure(member(arch, seed=5), spec)
    fresh.load_state_dict(q.state_dict(), strict=True)
    x = images()
    with torch.no_grad():
        assert torch.equal(fresh.eval()(x), q(x))
    assert quantized_layers(fresh) == quantized_layers(q)


def test_quantized_layers_names_every_weight_with_its_bits() -> None:
    _, q, _ = quantized("small_cnn", "int4_weight")
    report = quantized_layers(q)
    names = [
        "net.features.0.0.weight",
        "net.features.1.0.weight",
        "net.head.1.weight",
        "net.classifier.weight",
    ]
    assert list(report) == names
    assert all(info.weight_bits == 4 and info.activation_bits == 8 for info in report.values())
    assert set(report) <= set(q.state_dict())
    _, fp, _ = quantized("small_cnn", "fp16")
    assert all(
        info.weight_bits == 16 and info.activation_bits == 32 for info in quantized_layers(fp).values()
    )


@pytest.mark.parametrize("per_example", [False, True])
def test_fused_fake_quant_equals_the_reference_bit_for_bit(per_example: bool) -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 8, 6, 6) * 3
    x[0, 0, 0, :4] = torch.tensor([0.5, 1.5, -0.5, 2.5]) * 0.25  # exact ties of a 0.25 scale: half to even
    if per_example:
        flat = x.flatten(1)
        scale, zero_point = affine_qparams(flat.amin(1).view(-1, 1, 1, 1), flat.amax(1).view(-1, 1, 1, 1))
        scale[0] = 0.25
    else:
        scale, zero_point = affine_qparams(x.min(), x.max())
    out = fake_quant(x, scale, zero_point)
    assert torch.equal(out, fake_quant_reference(x, scale, zero_point))
    assert out.unique().numel() <= 256 * (x.shape[0] if per_example else 1)
    with pytest.raises(ValueError, match="one per example"):
        fake_quant(x, torch.ones(8, 1, 1), torch.zeros(8, 1, 1))
