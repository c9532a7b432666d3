from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipeline.io.predictions import (
    COLUMNS,
    SCHEMA,
    PredictFolder,
    as_table,
    logits_path,
    read_clean_summary,
    read_logits,
    read_predictions,
    write_clean_summary,
    write_corrupted_summary,
    write_predictions,
)


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


def test_as_table_gives_the_schema_order_and_types_and_refuses_other_columns(tmp_path: Path) -> None:
    n = 3
    cols = {
        "example_id": np.arange(n),  # int64 in, int32 stored
        "label": np.array([0, 1, 2]),
        "pred": np.array([0, 1, 1]),
        "p_pred": np.full(n, 0.5),
        "p_label": np.full(n, 0.25),
        "top5": np.array([[0, 1, 2], [1, 0, 2], [1, 2, 0]]),
    }
    path = tmp_path / "seed_0.parquet"
    write_predictions(path, as_table(dict(reversed(cols.items()))), np.zeros((n, 3)))
    back = read_predictions(path)
    assert list(back) == list(COLUMNS)
    assert {name: back[name].dtype.type for name in COLUMNS} == SCHEMA
    with pytest.raises(ValueError, match="columns example_id, label; expected example_id, label, pred"):
        as_table({"example_id": cols["example_id"], "label": cols["label"]})


def test_the_predict_folder_layout(tmp_path: Path) -> None:
    """Clean tables and summary under clean/<config>.d, each view's under corrupted/<config>.d/<view>."""
    out = PredictFolder(tmp_path).config("magnitude_50")
    assert out.table(2) == tmp_path / "clean/magnitude_50.d/seed_2.parquet"
    assert out.table(2, "rotate-5") == tmp_path / "corrupted/magnitude_50.d/rotate-5/seed_2.parquet"
    members = [{"seed": 2, "top1": 0.5, "size_ratio": 0.4, "sparsity": 0.5}]
    write_clean_summary(out, "magnitude_50", members)
    write_corrupted_summary(out, "magnitude_50", [{"view": "rotate-5", "examples": 3, "top1": [0.5]}])
    assert read_clean_summary(PredictFolder(tmp_path), "magnitude_50") == {
        "config": "magnitude_50",
        "members": members,
    }
    assert json.loads(out.corrupted_summary().read_text())["views"][0]["view"] == "rotate-5"
