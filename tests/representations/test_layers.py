"""Which representations are compared and how they are captured, on dense, quantized and timm models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from pipeline.compression.quantization import quantize
from pipeline.config import QuantSpec
from pipeline.models.member import Member
from pipeline.models.registry import build_model
from pipeline.representations.layers import LOGITS, capture, representation_layers

SMALL_CNN = {  # SmallCNN on 1x28x28: (layer, width of its input)
    "net.features.1.0": 16 * 14 * 14,
    "net.head.1": 32 * 7 * 7,
    "net.classifier": 128,
    LOGITS: 10,
}


def small_cnn() -> Member:
    torch.manual_seed(0)
    return Member(build_model("small_cnn", 1, 10, 28), torch.tensor([0.3]), torch.tensor([0.3])).eval()


def images(n: int, shape: tuple[int, ...] = (1, 28, 28), seed: int = 1) -> torch.Tensor:
    return torch.rand((n, *shape), generator=torch.Generator().manual_seed(seed))


def int8_static(model: nn.Module) -> nn.Module:
    return quantize(model, images(64, seed=2), QuantSpec(method="int8_static", calibration_size=64))


@pytest.mark.parametrize("variant", ["dense", "int8_static"])
def test_small_cnn_layers_in_order_with_their_input_widths(variant: str) -> None:
    model = small_cnn() if variant == "dense" else int8_static(small_cnn())
    names = representation_layers(model)
    assert names == list(SMALL_CNN)
    captured = capture(model, names, images(5))
    assert list(captured) == names
    assert {name: a.shape for name, a in captured.items()} == {n: (5, p) for n, p in SMALL_CNN.items()}
    assert all(a.dtype == np.float64 for a in captured.values())


@pytest.mark.parametrize("variant", ["dense", "int8_static"])
def test_logits_are_the_output_and_batches_do_not_matter(variant: str) -> None:
    model = small_cnn() if variant == "dense" else int8_static(small_cnn())
    x = images(7)
    names = representation_layers(model)
    whole = capture(model, names, x, batch_size=64)
    with torch.no_grad():
        np.testing.assert_array_equal(whole[LOGITS], model(x).double().numpy())
    # float32 kernels may round differently for another batch size, nothing more
    for name, array in capture(model, names, x, batch_size=3).items():
        np.testing.assert_allclose(array, whole[name], rtol=1e-5, atol=1e-6)


def test_inputs_are_flattened_per_example_in_c_order() -> None:
    model = small_cnn()
    x = images(4)
    with torch.no_grad():
        normalized = (x - model.mean) / model.std
        block0 = model.net.features[0](normalized)  # (4, 16, 14, 14): the second conv's input
        hidden = model.net.head(model.net.features(normalized))  # (4, 128): the classifier's input
    captured = capture(model, ["net.features.1.0", "net.classifier"], x)
    np.testing.assert_array_equal(captured["net.features.1.0"], block0.reshape(4, -1).double().numpy())
    np.testing.assert_array_equal(captured["net.features.1.0"].reshape(4, 16, 14, 14)[:, 3], block0[:, 3])
    np.testing.assert_array_equal(captured["net.classifier"], hidden.double().numpy())


def test_quantized_members_keep_the_dense_names_and_capture_a_close_input() -> None:
    dense = small_cnn()
    quant = int8_static(dense)
    x = images(32)
    names = representation_layers(dense)
    a, b = capture(dense, names, x), capture(quant, names, x)
    # the dense conv input is the post-BN, post-pool activation the quantized layer also reads
    first = "net.features.1.0"
    assert np.abs(a[first] - b[first]).max() < 0.05 * np.abs(a[first]).max()


def test_a_timm_model_works_too() -> None:
    torch.manual_seed(0)
    model = build_model("test_resnet", 3, 5, 32).eval()
    names = representation_layers(model)
    convs = [n for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert names == [*convs[1:], LOGITS]
    captured = capture(model, names, images(3, (3, 32, 32)))
    assert captured[LOGITS].shape == (3, 5)
    assert all(a.shape[0] == 3 and a.ndim == 2 for a in captured.values())


def test_model_state_and_hooks_are_left_as_they_were() -> None:
    model = small_cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    capture(model, representation_layers(model), images(3))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(not m._forward_pre_hooks for m in model.modules())


class Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(4, 4)
        self.twice = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.twice(self.twice(self.first(x)))


def test_a_layer_run_twice_per_forward_is_refused_and_unknown_names_too() -> None:
    model = Shared()
    assert representation_layers(model) == ["twice", LOGITS]
    with pytest.raises(ValueError, match="'twice' runs more than once"):
        capture(model, ["twice"], torch.zeros(2, 4))
    assert all(not m._forward_pre_hooks for m in model.modules())
    with pytest.raises(ValueError, match=r"no layers named \['nope'\]"):
        capture(model, ["nope"], torch.zeros(2, 4))
    with pytest.raises(ValueError, match="no images"):
        capture(model, [LOGITS], torch.zeros(0, 4))
