from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from pipeline.io.predictions import logits_path, read_logits, read_predictions, write_predictions


def test_round_trip_keeps_columns_order_and_types(tmp_path: Path) -> None:
    n = 7
    cols = {
        "example_id": np.arange(n, dtype=np.int32),
        "label": np.array([0, 1, 2, 0, 1, 2, 0], dtype=np.int16),
        "pred": np.array([0, 1, 1, 0, 2, 2, 0], dtype=np.int16),
        "p_pred": np.linspace(0.3, 0.9, n).astype(np.float32),
        "p_label": np.linspace(0.1, 0.7, n).astype(np.float32),
        "top5": np.tile(np.array([[2, 1, 0]], dtype=np.int16), (n, 1)),
    }
    logits = np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32)
    path = tmp_path / "clean" / "seed_0.parquet"
    write_predictions(path, cols, logits)
    assert pq.read_schema(path).names == list(cols)
    back = read_predictions(path)
    for name, values in cols.items():
        np.testing.assert_array_equal(back[name], values)
    assert logits_path(path).name == "seed_0.logits.npy"
    stored = read_logits(path)
    assert stored.dtype == np.float16
    np.testing.assert_allclose(stored, logits, rtol=1e-3, atol=1e-3)
