from __future__ import annotations

import numpy as np
import torch
from torch import nn

from pipeline.prediction import predict_logits, prediction_columns, top1


class Fixed(nn.Module):
    """Logits are the mean pixel value times a fixed vector: easy to check by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor([1.0, -1.0, 0.5, 2.0, 0.0, 3.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(1, 2, 3))[:, None] * self.w[None, :]


def test_logits_match_a_direct_forward_for_any_batch_size() -> None:
    images = torch.randint(0, 256, (37, 1, 4, 4), dtype=torch.uint8)
    direct = Fixed()(images.float() / 255)
    for batch in (1, 8, 37, 100):
        torch.testing.assert_close(predict_logits(Fixed(), images, batch), direct)


def test_columns_follow_the_softmax() -> None:
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0, -2.0, -3.0], [0.0, 0.0, 5.0, 0.0, 0.0, 1.0]])
    labels = np.array([1, 2])
    cols = prediction_columns(logits, labels)
    probs = torch.softmax(logits.double(), 1).numpy()
    assert cols["example_id"].tolist() == [0, 1]
    assert cols["pred"].tolist() == [0, 2]
    np.testing.assert_allclose(cols["p_pred"], probs.max(1), rtol=1e-6)
    np.testing.assert_allclose(cols["p_label"], [probs[0, 1], probs[1, 2]], rtol=1e-6)
    assert cols["top5"][0].tolist() == [0, 1, 2, 3, 4]
    assert cols["top5"][1, :2].tolist() == [2, 5]  # the rest are tied at 0
    assert top1(cols) == 0.5
