"""pipeline.runtime: switching off deterministic mode's NaN fill of new tensors changes no result."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from pipeline.compression.recipe import compress_member
from pipeline.config import CompressionConfig, PruneSpec, QuantSpec, RuntimeParams, TrainParams
from pipeline.data.prepare import Prepared
from pipeline.models.member import new_member
from pipeline.prediction import predict_logits
from pipeline.runtime import configure_torch
from pipeline.training.loop import TrainData, train_member

TRAIN = TrainParams(epochs=1, batch_size=64, eval_batch_size=256, augment=("hflip", "shift"))
CONFIGS = (
    CompressionConfig(prune=PruneSpec(sparsity=0.7, finetune_epochs=0.5)),
    CompressionConfig(quantize=QuantSpec(method="int8_static", calibration_size=64)),
)


@pytest.fixture
def fill_restored() -> Iterator[None]:
    before = torch.are_deterministic_algorithms_enabled(), torch.utils.deterministic.fill_uninitialized_memory
    yield
    torch.use_deterministic_algorithms(before[0])
    torch.utils.deterministic.fill_uninitialized_memory = before[1]  # type: ignore[attr-defined]


def study_bytes(data: Prepared) -> list[bytes]:
    """A member trained, then each config applied to it and the test split predicted: every tensor's bytes."""
    train = TrainData.from_prepared(data)
    torch.manual_seed(0)
    member = new_member("small_cnn", data.image_shape, data.num_classes, train.train_images)
    train_member(member, train, TRAIN, seed=0)
    tensors = list(member.state_dict().values())
    for cfg in CONFIGS:
        copy = new_member("small_cnn", data.image_shape, data.num_classes, train.train_images)
        copy.load_state_dict(member.state_dict())
        cell, _ = compress_member(copy, cfg, train, TRAIN, seed=0)
        tensors += [*cell.state_dict().values(), predict_logits(cell, torch.from_numpy(data.test.images), 64)]
    return [t.contiguous().numpy().tobytes() for t in tensors]


def test_configure_torch_switches_the_fill_off_and_keeps_kernels_deterministic(fill_restored: None) -> None:
    configure_torch(RuntimeParams(threads=1))
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.utils.deterministic.fill_uninitialized_memory


def test_training_compression_and_prediction_read_no_uninitialized_memory(
    tiny_data: Prepared, fill_restored: None
) -> None:
    configure_torch(RuntimeParams(threads=1))
    torch.utils.deterministic.fill_uninitialized_memory = True  # type: ignore[attr-defined]
    filled = study_bytes(tiny_data)
    torch.utils.deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]
    assert study_bytes(tiny_data) == filled
