"""The ``robustness`` stage (one over every config) on hand-made prediction tables of two corruptions at two
severities, the views named by a fake ``corrupt`` folder."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from pipeline.config import (
    CompressionConfig,
    CompressParams,
    CorruptParams,
    PopulationParams,
    QuantSpec,
    to_dict,
)
from pipeline.data.base import Split
from pipeline.data.prepare import Prepared
from pipeline.errors import InputCorrupt
from pipeline.io.predictions import PredictFolder, write_predictions
from pipeline.io.prepared import save_prepared
from pipeline.io.robustness import RobustnessFolder, read_summary
from pipeline.io.views import write_views
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
    predict = PredictFolder(tmp_path / "predict")
    for config, wrong in WRONG.items():
        for view, count in wrong.items():
            ids = np.arange(N) if view == "clean" else SAMPLE
            for seed in SEEDS:
                pred = wrong_first(labels[ids], count)
                table = columns(ids, labels[ids], pred)
                write_predictions(predict.config(config).table(seed, view), table, np.zeros((ids.size, K)))
    # The views as the corrupt stage wrote them, in its order (corruption-major, severities ascending).
    views = {view: images[SAMPLE] for view in VIEWS}
    write_views(tmp_path / "corrupt", SAMPLE, views, {"sample_size": SAMPLE.size, "seed": 0})
    params = dataclasses.replace(
        tiny_params(),
        population=PopulationParams(seeds=SEEDS),
        compress=CompressParams(
            {"dense": CompressionConfig(), "int8_static": CompressionConfig(quantize=QuantSpec())}
        ),
        # Not read by the stage: the views are those of the corrupt folder.
        corrupt=CorruptParams(corruptions=("shear",), severities=(2,)),
    )
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(to_dict(params), sort_keys=False))
    return {"root": tmp_path, "predict": predict, "params": str(params_file)}


def run(study: dict[str, Any], config: str, out: str = "robustness") -> Path:
    """The stage through its command line; returns ``config``'s output folder."""
    root = study["root"]
    argv = [
        "--params",
        study["params"],
        "--prepare",
        str(root / "prepared"),
        "--corrupt",
        str(root / "corrupt"),
    ]
    argv += ["--predict", str(root / "predict"), "--out", str(root / out)]
    stage.main(stage.build_parser().parse_args(argv))
    return RobustnessFolder(root / out).config(config)


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


def test_every_config_gets_its_folder_and_the_views_come_from_the_corrupt_folder(
    study: dict[str, Any],
) -> None:
    """One run writes every config's folder (dense too); the views are those views.json lists, whatever
    the corrupt params say now (a change there reruns corrupt and predict first)."""
    out = run(study, "dense").parent
    assert sorted(p.name for p in out.iterdir()) == ["dense", "int8_static"]
    assert sorted(p.name for p in (out / "int8_static").iterdir()) == [
        "per_class.csv",
        "summary.json",
        "views.csv",
    ]
    summary = read_summary(out, "int8_static")
    assert summary["corruptions"] == ["gaussian_noise", "rotate"] and summary["severities"] == [1, 5]
    assert [r["view"] for r in read_csv(out / "dense" / "views.csv")] == ["clean", *VIEWS]


def test_a_missing_view_keeps_the_previous_outputs(study: dict[str, Any]) -> None:
    out = run(study, "int8_static")
    before = (out / "summary.json").read_bytes()
    study["predict"].config("int8_static").table(1, "rotate-5").unlink()
    with pytest.raises(InputCorrupt, match=r"rotate-5/seed_1.parquet: missing; run `dvc repro predict`"):
        run(study, "int8_static")
    assert (out / "summary.json").read_bytes() == before
