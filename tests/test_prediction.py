from __future__ import annotations

import numpy as np
import torch
from torch import nn

from pipeline.compression.report import CompressionReport, SparsityReport, TensorSparsity
from pipeline.config import CompressionConfig
from pipeline.data.prepare import Prepared
from pipeline.io.checkpoints import CheckpointMeta
from pipeline.prediction import predict_clean, predict_corrupted, predict_logits, prediction_columns, top1

from .conftest import tiny_params


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


def test_clean_and_corrupted_tables_go_to_the_sink_with_their_summary_rows(tiny_data: Prepared) -> None:
    """predict_clean hands each member's clean table to the sink and returns its summary entry;
    predict_corrupted does the same per view, with the views' test-split ids as example_id."""
    images = np.random.default_rng(0).integers(0, 256, (6, 1, 4, 4), dtype=np.uint8)
    labels = np.array([5, 5, 3, 5, 5, 5])
    got: list[tuple[int, str, dict[str, np.ndarray]]] = []

    def sink(seed: int, view: str, columns: dict[str, np.ndarray], logits: np.ndarray) -> None:
        assert logits.shape == (len(columns["label"]), 6)
        got.append((seed, view, columns))

    member = CheckpointMeta.member(tiny_params(), 3, tiny_data, final_val_acc=0.5)
    half = SparsityReport({"w": TensorSparsity.of(8, 4)}, TensorSparsity.of(8, 4))
    cell = member.to_cell("cfg", CompressionConfig(), CompressionReport(half, None, 25, 100))
    rows = predict_clean("cfg", {3: (Fixed(), cell), 1: (Fixed(), member)}, images, labels, 4, sink)
    assert [(seed, view) for seed, view, _ in got] == [(3, "clean"), (1, "clean")]
    expected = top1(got[0][2])
    assert rows == [
        {"seed": 3, "top1": expected, "size_ratio": 0.25, "sparsity": 0.5},
        {"seed": 1, "top1": expected, "size_ratio": 1.0, "sparsity": 0.0},
    ]
    got.clear()
    index = np.array([1, 4])
    views = {"rotate-1": images[index], "rotate-5": images[index][::-1].copy()}
    rows = predict_corrupted("cfg", {3: Fixed()}, index, views, labels, 4, sink)
    assert [(seed, view) for seed, view, _ in got] == [(3, "rotate-1"), (3, "rotate-5")]
    assert got[0][2]["example_id"].tolist() == [1, 4] and got[0][2]["label"].tolist() == [5, 5]
    assert [r["view"] for r in rows] == ["rotate-1", "rotate-5"] and rows[0]["examples"] == 2
    assert rows[0]["top1"] == [top1(got[0][2])]
