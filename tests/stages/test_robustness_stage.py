"""The ``robustness@config`` stage on hand-made prediction tables of two corruptions at two severities."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from pipeline.config import ConfigError, CorruptParams, PopulationParams, to_dict
from pipeline.data.base import Split
from pipeline.data.prepare import Prepared
from pipeline.errors import InputCorrupt
from pipeline.io.predictions import write_predictions
from pipeline.io.prepared import save_prepared
from pipeline.stages import robustness as stage

from ..conftest import tiny_params

N, K = 40, 4
SEEDS = (0, 1)
SAMPLE = np.arange(0, N, 2)  # the corrupted views hold every other test image
VIEWS = ("gaussian_noise-1", "gaussian_noise-5", "rotate-1", "rotate-5")


def columns(ids: np.ndarray, labels: np.ndarray, pred: np.ndarray) -> dict[str, np.ndarray]:
    n = ids.size
    return {
        "example_id": ids.astype(np.int32),
        "label": labels.astype(np.int16),
        "pred": pred.astype(np.int16),
        "p_pred": np.full(n, 0.8, np.float32),
        "p_label": np.full(n, 0.5, np.float32),
        "top5": np.stack([(pred + i) % K for i in range(K)], axis=1).astype(np.int16),
    }


def wrong_first(labels: np.ndarray, count: int) -> np.ndarray:
    """Predictions right except on the first ``count`` examples."""
    pred = labels.copy()
    pred[:count] = (labels[:count] + 1) % K
    return pred


# Wrong examples per (config, view) among the 20 sampled images (and per 40 on the clean view).
WRONG = {
    "dense": {"clean": 2, "gaussian_noise-1": 2, "gaussian_noise-5": 6, "rotate-1": 2, "rotate-5": 4},
    "int8_static": {"clean": 2, "gaussian_noise-1": 4, "gaussian_noise-5": 8, "rotate-1": 2, "rotate-5": 4},
}


@pytest.fixture
def study(tmp_path: Path) -> dict[str, Any]:
    labels = np.arange(N) % K
    images = np.zeros((N, 1, 8, 8), dtype=np.uint8)
    empty = Split(images[:0], labels[:0])
    save_prepared(
        tmp_path / "prepared",
        Prepared("synthetic", tuple("abcd"), (), empty, empty, Split(images, labels), "x", "x"),
    )
    pattern = str(tmp_path / "predict" / "{config}" / "{view}" / "seed_{seed}.parquet")
    for config, wrong in WRONG.items():
        for view, count in wrong.items():
            ids = np.arange(N) if view == "clean" else SAMPLE
            for seed in SEEDS:
                path = Path(pattern.format(config=config, view=view, seed=seed))
                pred = wrong_first(labels[ids], count)
                write_predictions(path, columns(ids, labels[ids], pred), np.zeros((ids.size, K)))
    params = dataclasses.replace(
        tiny_params(),
        population=PopulationParams(seeds=SEEDS),
        corrupt=CorruptParams(corruptions=("rotate", "gaussian_noise"), severities=(5, 1)),
    )
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(to_dict(params), sort_keys=False))
    return {"root": tmp_path, "pattern": pattern, "params": str(params_file)}


def run(study: dict[str, Any], config: str, out: str = "robustness") -> Path:
    root = study["root"]
    args = argparse.Namespace(
        params=study["params"],
        config=config,
        predictions=study["pattern"],
        data=str(root / "prepared"),
        out=str(root / out / config),
    )
    stage.main(args)
    return root / out / config


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_corruption_errors_by_hand(study: dict[str, Any]) -> None:
    out = run(study, "int8_static")
    summary = json.loads((out / "summary.json").read_text())
    n = SAMPLE.size
    # CE = summed compressed errors / summed dense errors; relative CE subtracts the clean errors on the
    # sample (the first 2 of every 40 clean examples are wrong: 1 of the 20 sampled ones).
    ce_noise, ce_rotate = (4 + 8) / (2 + 6), (2 + 4) / (2 + 4)
    rel_noise = ((4 - 1) + (8 - 1)) / ((2 - 1) + (6 - 1))
    per = summary["per_corruption"]
    assert per["gaussian_noise"]["ce"] == pytest.approx(ce_noise)
    assert per["rotate"]["ce"] == pytest.approx(ce_rotate)
    assert per["gaussian_noise"]["relative_ce"] == pytest.approx(rel_noise)
    assert summary["mce"] == pytest.approx((ce_noise + ce_rotate) / 2)
    assert summary["sample_size"] == n and summary["severities"] == [1, 5]
    assert summary["corruptions"] == ["gaussian_noise", "rotate"]  # the suite's order
    assert per["gaussian_noise"]["top1"] == pytest.approx([1 - 4 / n, 1 - 8 / n])
    assert per["gaussian_noise"]["pie_rate"] == pytest.approx([2 / n, 2 / n])  # both seeds agree
    assert summary["clean"]["top1"] == pytest.approx(1 - 1 / n)
    # rotate has CE 1: it costs the compressed population no more than the dense one.
    assert summary["hurt_most"] == [{"corruption": "gaussian_noise", "ce": pytest.approx(ce_noise)}]
    views = read_csv(out / "views.csv")
    assert [r["view"] for r in views] == ["clean", *VIEWS]
    assert float(views[2]["error_ratio"]) == pytest.approx(8 / 6)
    classes = read_csv(out / "per_class.csv")
    assert [r["corruption"] for r in classes[::K]] == ["clean", "all", "gaussian_noise", "rotate"]


def test_dense_against_itself(study: dict[str, Any]) -> None:
    summary = json.loads((run(study, "dense") / "summary.json").read_text())
    assert summary["mce"] == 1.0 and summary["mean_pie_rate"] == 0.0 and summary["hurt_most"] == []


def test_reruns_are_byte_identical(study: dict[str, Any]) -> None:
    first = run(study, "int8_static", "a")
    second = run(study, "int8_static", "b")
    for name in ("summary.json", "views.csv", "per_class.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_unknown_config_names_the_defined_ones(study: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"no config named 'int4'; defined: dense, magnitude_50"):
        run(study, "int4")


def test_a_missing_view_keeps_the_previous_outputs(study: dict[str, Any]) -> None:
    out = run(study, "int8_static")
    before = (out / "summary.json").read_bytes()
    Path(study["pattern"].format(config="int8_static", view="rotate-5", seed=1)).unlink()
    with pytest.raises(InputCorrupt, match=r"rotate-5/seed_1.parquet: missing; run `dvc repro predict`"):
        run(study, "int8_static")
    assert (out / "summary.json").read_bytes() == before
