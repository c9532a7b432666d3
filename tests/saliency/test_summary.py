"""The saliency summary, its rows and log lines from per-image measures."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis.floor import over_pairs
from pipeline.saliency.metrics import METRICS, compare
from pipeline.saliency.summary import build_summary, floor_rows, image_rows, log_lines, mean_metrics


def measures(*values: float) -> dict[str, np.ndarray]:
    return {name: np.array(values) for name in METRICS}


def test_mean_metrics_skips_undefined_values() -> None:
    groups = [measures(0.5, np.nan), measures(1.0)]
    assert mean_metrics(groups) == dict.fromkeys(METRICS, 0.75)
    assert mean_metrics([]) == dict.fromkeys(METRICS, None)


def test_floor_rows_follow_the_seed_pairs_in_order() -> None:
    rng = np.random.default_rng(0)
    maps = {seed: rng.random((2, 4, 4)).astype(np.float32) for seed in (3, 1, 2)}
    floor = over_pairs(maps, compare)
    rows = floor_rows(floor)
    assert [(r["seed_a"], r["seed_b"]) for r in rows] == [(3, 1), (3, 2), (1, 2)]
    assert rows[1]["mad"] == pytest.approx(float(np.abs(maps[3] - maps[2]).mean()), rel=1e-6)


def test_summary_ratio_and_rows() -> None:
    per_seed = {0: measures(0.2, 0.4), 1: measures(0.3, np.nan)}
    floor = {(0, 1): measures(0.6, 0.6)}
    summary = build_summary("fp16", "gradient", 2, per_seed, floor, through=False)
    assert summary["mad"] == pytest.approx(0.3) and summary["mad_over_floor"] == pytest.approx(0.5)
    assert summary["noise_floor"] == {"pairs": 1} | dict.fromkeys(METRICS, pytest.approx(0.6))
    rows = image_rows(per_seed, np.array([7, 9]), np.array([1, 0]), ["a", "b"])
    assert [(r["seed"], r["example_id"], r["label_name"]) for r in rows] == [
        (0, 7, "b"),
        (0, 9, "a"),
        (1, 7, "b"),
        (1, 9, "a"),
    ]
    assert rows[3]["mad"] is None and isinstance(rows[0]["mad"], float)
    lines = log_lines("fp16", per_seed, summary)
    assert lines[0] == "fp16 seed 0: mad 0.3000, signed 0.3000, spearman 0.3000, top_overlap 0.3000"
    assert lines[-1] == "fp16: mad 0.3000 against a noise floor of 0.6000 between dense seeds (ratio 0.5000)"


def test_no_floor_no_ratio() -> None:
    summary = build_summary("fp16", "gradient", 1, {0: measures(0.2)}, {}, through=True)
    assert summary["mad_over_floor"] is None and summary["noise_floor"]["mad"] is None
    assert "straight-through" in summary["note"]
