from __future__ import annotations

import pytest
import torch

from pipeline.compression.quantization import quantize, quantized_layers
from pipeline.compression.size import dense_size_bytes, model_size_bytes, storage_bits
from pipeline.config import QuantSpec
from pipeline.models.member import Member
from pipeline.models.registry import build_model


def sparse_tensor(numel: int, nonzeros: int) -> torch.Tensor:
    t = torch.zeros(numel)
    t[:nonzeros] = 1.5
    return t


def test_dense_float32_costs_32_bits_per_element() -> None:
    assert storage_bits(torch.ones(10, 10), 32, sparse=False) == 3200


def test_sparse_tensor_uses_the_bitmap_when_smaller() -> None:
    t = sparse_tensor(100, 10)  # 90% sparse
    assert storage_bits(t, 32, sparse=True) == 10 * 32 + 100
    assert storage_bits(t, 32, sparse=False) == 3200


def test_int8_dense_and_int4_sparse() -> None:
    assert storage_bits(torch.ones(100), 8, sparse=False) == 800
    assert storage_bits(sparse_tensor(100, 50), 4, sparse=True) == 50 * 4 + 100
    # 90 non-zeros at 4 bits plus the bitmap (460) exceed dense int4 (400): stored densely
    assert storage_bits(sparse_tensor(100, 90), 4, sparse=True) == 400


def test_model_size_counts_every_tensor_and_rounds_up_to_bytes() -> None:
    state = {"w": sparse_tensor(100, 10), "b": torch.ones(10), "steps": torch.tensor(3)}
    bits = (10 * 8 + 100) + 10 * 32 + 32  # sparse int8 weight, float bias, one counter
    assert model_size_bytes(state, {"w": 8}, {"w"}) == -(-bits // 8) == 67


def test_unknown_names_are_rejected() -> None:
    with pytest.raises(KeyError, match="missing"):
        model_size_bytes({"w": torch.ones(3)}, {"missing": 8}, set())


def test_dense_reference_is_four_bytes_per_element() -> None:
    torch.manual_seed(0)
    state = Member(build_model("small_cnn", 1, 10, 28), torch.zeros(1), torch.ones(1)).state_dict()
    numel = sum(t.numel() for t in state.values())
    assert dense_size_bytes(state) == model_size_bytes(state, {}, set()) == 4 * numel


def test_int8_model_is_about_four_times_smaller() -> None:
    torch.manual_seed(0)
    model = Member(build_model("small_cnn", 1, 10, 28), torch.zeros(1), torch.ones(1))
    q = quantize(model, torch.rand(16, 1, 28, 28), QuantSpec(method="int8_static"))
    bits = {name: info.weight_bits for name, info in quantized_layers(q).items()}
    ratio = dense_size_bytes(q.state_dict()) / model_size_bytes(q.state_dict(), bits, set())
    assert 3.5 < ratio < 4.0
