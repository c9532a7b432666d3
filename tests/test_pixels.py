"""pipeline/pixels.py: the one scaling between stored uint8 pixels and model inputs in [0, 1]."""

from __future__ import annotations

import torch

from pipeline.pixels import to_uint8, to_unit


def test_to_unit_is_a_float32_copy_divided_by_255() -> None:
    images = torch.tensor([[0, 1, 128, 255]], dtype=torch.uint8)
    out = to_unit(images)
    assert out.dtype == torch.float32 and torch.equal(out, images.float() / 255.0)
    assert to_unit(images, torch.float64).dtype == torch.float64
    assert images.tolist() == [[0, 1, 128, 255]]  # left as it was


def test_to_uint8_rounds_and_clamps_and_inverts_to_unit() -> None:
    images = torch.arange(256, dtype=torch.int32).to(torch.uint8)
    assert torch.equal(to_uint8(to_unit(images)), images)  # exact round trip of every level
    assert to_uint8(torch.tensor([-0.5, 0.6 / 255, 1.4 / 255, 2.6 / 255, 1.7])).tolist() == [0, 1, 1, 3, 255]
