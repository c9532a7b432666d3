from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.compression.quantization import quantize
from pipeline.config import QuantSpec, SyntheticParams
from pipeline.data.synthetic import generate
from pipeline.models.member import Member, new_member

# The agreement check is a script's (scripts/check_int8_backend.py), not the pipeline's: load it from there.
_SPEC = importlib.util.spec_from_file_location(
    "int8_backend", Path(__file__).parents[2] / "scripts" / "int8_backend.py"
)
assert _SPEC is not None and _SPEC.loader is not None
int8_backend = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(int8_backend)
backend_int8_static, prediction_agreement = (
    int8_backend.backend_int8_static,
    int8_backend.prediction_agreement,
)

pytestmark = pytest.mark.skipif(
    "x86" not in torch.backends.quantized.supported_engines, reason="needs PyTorch's x86 quantized engine"
)


@pytest.fixture(scope="module")
def trained() -> tuple[Member, torch.Tensor, torch.Tensor]:
    """(small_cnn trained for a few steps on synthetic 16x16 data, calibration images, test images)."""
    raw = generate(SyntheticParams(num_classes=4, image_size=16, train_size=512, test_size=400))
    train = torch.as_tensor(raw.train.images)  # (512, 1, 16, 16) uint8
    labels = torch.as_tensor(raw.train.labels).long()
    torch.manual_seed(0)
    model = new_member("small_cnn", (1, 16, 16), 4, train)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for step in range(10):
        batch = torch.arange(step * 48, (step + 1) * 48) % 512
        loss = F.cross_entropy(model(train[batch].float() / 255), labels[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    test = torch.as_tensor(raw.test.images).float() / 255  # (400, 1, 16, 16)
    return model.eval(), train[:256].float() / 255, test


def test_simulated_int8_static_agrees_with_the_x86_backend(
    trained: tuple[Member, torch.Tensor, torch.Tensor],
) -> None:
    model, calibration, test = trained
    simulated = quantize(model, calibration, QuantSpec(method="int8_static"))
    backend = backend_int8_static(model, calibration)
    assert prediction_agreement(simulated, backend, test) >= 0.99
    noise = torch.rand(300, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    assert prediction_agreement(simulated, backend, noise, batch_size=64) >= 0.99
    with torch.no_grad():  # the same integers, up to a rare rounding tie: logits match closely
        torch.testing.assert_close(simulated(test), backend(test), atol=0.1, rtol=0)


def test_backend_runs_int8_kernels_and_restores_the_engine(
    trained: tuple[Member, torch.Tensor, torch.Tensor],
) -> None:
    model, calibration, test = trained
    engine = torch.backends.quantized.engine
    backend = backend_int8_static(model, calibration)
    assert torch.backends.quantized.engine == engine
    kinds = {type(m).__module__ for m in backend.modules()}
    assert any(kind.startswith("torch.ao.nn.intrinsic.quantized") for kind in kinds)  # fused int8 conv-relu
    assert backend(test[:5]).shape == (5, 4)
    assert all(p.requires_grad for p in model.parameters())  # the member itself is untouched


class Constant(nn.Module):
    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits[: x.shape[0]]


def test_prediction_agreement_counts_identical_top1() -> None:
    a = Constant(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    b = Constant(torch.tensor([[2.0, 0.0], [0.0, 2.0], [0.0, 2.0], [0.0, 2.0]]))
    x = torch.zeros(4, 1, 2, 2)
    assert prediction_agreement(a, b, x) == 0.75
    assert prediction_agreement(a, a, x) == 1.0
