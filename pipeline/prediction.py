"""A population's predictions on a test view (SPEC section 6).

One prediction table per member (cell) and view, rows in the test split's order (the columns and their
stored types: :mod:`pipeline.io.predictions`); the logits go to a float16 side array. This module computes
them and the numbers the ``predict`` stage summarizes and logs; it writes nothing itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from pipeline.io.predictions import TOP_K, as_table
from pipeline.numbers import fmt
from pipeline.pixels import to_unit
from pipeline.robustness import CLEAN_VIEW

if TYPE_CHECKING:
    from pipeline.io.checkpoints import CheckpointMeta

log = logging.getLogger("pipeline.predict")

# Where a table goes: (seed, view, columns, logits), e.g. ConfigPredictions.write_table.
Sink = Callable[[int, str, dict[str, np.ndarray], np.ndarray], None]


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
        x = to_unit(images[start : start + batch_size])
        logits = model(x.contiguous(memory_format=torch.channels_last)).float()  # (B, K)
        if out is None:
            out = torch.empty((n, logits.shape[1]), dtype=torch.float32)
        out[start : start + logits.shape[0]] = logits
    assert out is not None, "no images"
    return out


def prediction_columns(
    logits: torch.Tensor, labels: np.ndarray, example_ids: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The prediction table's columns from logits (N, K) and labels (N,); ``example_ids``: the rows'
    test-split indices (default 0..N-1, the whole test split)."""
    probs = torch.softmax(logits.double(), dim=1)  # float64: p_label of confident models is not 0
    p_pred, pred = probs.max(dim=1)
    index = torch.from_numpy(labels).long()
    k = min(TOP_K, logits.shape[1])
    top = torch.topk(logits, k, dim=1).indices  # (N, k), best first
    return as_table(
        {
            "example_id": np.arange(labels.shape[0]) if example_ids is None else example_ids,
            "label": labels,
            "pred": pred.numpy(),
            "p_pred": p_pred.float().numpy(),
            "p_label": probs.gather(1, index[:, None])[:, 0].float().numpy(),
            "top5": top.numpy(),
        }
    )


def top1(columns: Mapping[str, np.ndarray]) -> float:
    return float((columns["pred"] == columns["label"]).mean())


def cell_row(seed: int, top1: float, meta: CheckpointMeta) -> dict[str, Any]:
    """A cell's entry of the clean summary: its top-1 and, from its checkpoint's metadata, the storage
    size ratio and overall sparsity (1.0 and 0.0 for a dense cell)."""
    return {"seed": seed, "top1": top1, "size_ratio": meta.size_ratio, "sparsity": meta.overall_sparsity}


def predict_clean(
    config: str,
    cells: Mapping[int, tuple[nn.Module, CheckpointMeta]],
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    sink: Sink,
) -> list[dict[str, Any]]:
    """Each cell's (seed -> (model, checkpoint metadata)) table on the clean test split, handed to
    ``sink``; returns the cells' summary entries (:func:`cell_row`; the summary's ``members``), in seed
    order."""
    x = torch.from_numpy(images)
    rows = []
    for seed, (model, meta) in cells.items():
        start = time.perf_counter()
        logits = predict_logits(model, x, batch_size)
        rate = len(x) / (time.perf_counter() - start)
        columns = prediction_columns(logits, labels)
        sink(seed, CLEAN_VIEW, columns, logits.numpy())
        rows.append(cell_row(seed, top1(columns), meta))
        log.info("%s seed %d: top-1 %s, %.0f images/s", config, seed, fmt(rows[-1]["top1"]), rate)
    return rows


def predict_corrupted(
    config: str,
    models: Mapping[int, nn.Module],
    index: np.ndarray,
    views: Mapping[str, np.ndarray],
    labels: np.ndarray,
    batch_size: int,
    sink: Sink,
) -> list[dict[str, Any]]:
    """Each member's table on each corrupted view (``views``: name -> uint8 images of the test-split
    examples ``index``), handed to ``sink``; returns one summary entry per view: its name, its number of
    examples and the members' top-1 in seed order."""
    from pipeline.progress import progress

    start = time.perf_counter()
    rows = []
    for view, images in progress(views.items(), total=len(views), desc="corrupted views"):
        row: dict[str, Any] = {"view": view, "examples": int(index.size), "top1": []}
        for seed, columns, logits in _predict_view(models, images, labels[index], index, batch_size):
            sink(seed, view, columns, logits)
            row["top1"].append(top1(columns))
        rows.append(row)
    if rows:
        mean = float(np.mean([np.mean(r["top1"]) for r in rows]))
        log.info(
            "%s: %d corrupted views of %d images, mean top-1 %s, %.1f s",
            *(config, len(rows), index.size, fmt(mean), time.perf_counter() - start),
        )
    return rows


def _predict_view(
    models: Mapping[int, nn.Module], images: np.ndarray, labels: np.ndarray, ids: np.ndarray, batch_size: int
) -> Iterator[tuple[int, dict[str, np.ndarray], np.ndarray]]:
    """(seed, columns, logits) of each member on one view's images."""
    for seed, model in models.items():
        logits = predict_logits(model, torch.from_numpy(images), batch_size)
        yield seed, prediction_columns(logits, labels, ids), logits.numpy()


def load_cells(paths: Mapping[int, Any]) -> dict[int, tuple[nn.Module, CheckpointMeta]]:
    """seed -> (model in channels-last layout, checkpoint metadata) of each cell's checkpoint ``paths``."""
    from pipeline.compression.load import load_model

    cells: dict[int, tuple[nn.Module, CheckpointMeta]] = {}
    for seed, path in paths.items():
        model, meta = load_model(path)
        cells[seed] = (model.to(memory_format=torch.channels_last), meta)
    return cells
