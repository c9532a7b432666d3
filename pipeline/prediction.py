"""A population's predictions on a test view (SPEC section 6).

One table per member, rows in the test split's order: ``example_id, label, pred, p_pred`` (max softmax),
``p_label`` (softmax of the true label) and ``top5``; the logits go to a float16 side array.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from pipeline.io.predictions import TOP_K


@torch.inference_mode()
def predict_logits(model: nn.Module, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """float32 logits (N, K) of ``model`` in eval mode over uint8 images (N, C, H, W).

    Batches are converted to [0, 1] floats in channels-last layout (the fast path of CPU convolutions);
    the output is preallocated once.
    """
    model.eval()
    n = images.shape[0]
    out: torch.Tensor | None = None
    for start in range(0, n, batch_size):
        x = images[start : start + batch_size].float().div_(255.0)
        logits = model(x.contiguous(memory_format=torch.channels_last)).float()  # (B, K)
        if out is None:
            out = torch.empty((n, logits.shape[1]), dtype=torch.float32)
        out[start : start + logits.shape[0]] = logits
    assert out is not None, "no images"
    return out


def prediction_columns(logits: torch.Tensor, labels: np.ndarray) -> dict[str, np.ndarray]:
    """The prediction table's columns from logits (N, K) and labels (N,)."""
    probs = torch.softmax(logits.double(), dim=1)  # float64: p_label of confident models is not 0
    p_pred, pred = probs.max(dim=1)
    index = torch.from_numpy(labels).long()
    k = min(TOP_K, logits.shape[1])
    top = torch.topk(logits, k, dim=1).indices  # (N, k), best first
    return {
        "example_id": np.arange(labels.shape[0], dtype=np.int32),
        "label": labels.astype(np.int16),
        "pred": pred.numpy().astype(np.int16),
        "p_pred": p_pred.float().numpy(),
        "p_label": probs.gather(1, index[:, None])[:, 0].float().numpy(),
        "top5": top.numpy().astype(np.int16),
    }


def top1(columns: dict[str, np.ndarray]) -> float:
    return float((columns["pred"] == columns["label"]).mean())
