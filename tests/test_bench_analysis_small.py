"""scripts/bench_analysis.py at a tiny scale: what it generates is what the owners' readers accept (the
compressed configs' logits sparse, the dense ones consistent with their tables, the dense atypicality), and
``traits``, ``stats`` and ``pie`` run on it, so the benchmark cannot silently fall behind the layouts
again."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.analysis.pie_traits import mean_probabilities
from pipeline.io.atypicality import read_atypicality
from pipeline.io.predictions import PredictFolder, logits_path, read_logits, read_predictions
from pipeline.io.prepared import load_test_split
from pipeline.stages import pie, stats, traits

from .conftest import REPO

_spec = importlib.util.spec_from_file_location("bench_analysis", REPO / "scripts" / "bench_analysis.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_analysis"] = bench  # its dataclasses look their module up
_spec.loader.exec_module(bench)

SHAPE = bench.Shape(400, 3, 8, 8, ("dense", "magnitude_30", "int8_static"), width=6)


def test_the_generated_study_is_read_by_the_owners_and_the_stages_run_on_it(tmp_path: Path) -> None:
    bench.generate(tmp_path, SHAPE)
    bench.write_params(REPO, tmp_path / "params.yaml", SHAPE)
    predict = PredictFolder(tmp_path / "predict")
    test = load_test_split(tmp_path / "prepare")
    dense = predict.config("dense").table(0)
    table, logits = read_predictions(dense), read_logits(dense).astype(np.float32)
    assert np.array_equal(table["label"], test.labels)
    assert np.array_equal(table["pred"], logits.argmax(axis=1))
    assert np.allclose(table["p_pred"], mean_probabilities([logits])[0].max(axis=1), atol=1e-5)
    atypicality = read_atypicality(tmp_path / "atypicality")
    assert atypicality.seeds == (0, 1, 2) and atypicality.array(1).shape == (400,)
    assert np.median(atypicality.array(1)) == pytest.approx(1.0, abs=0.1)
    compressed = predict.config("int8_static").table(2)
    zeros = read_logits(compressed)  # its table's SHA-256 holds for the sparse file
    assert zeros.shape == (400, 8) and not zeros.any()
    assert logits_path(compressed).stat().st_blocks * 512 < logits_path(compressed).stat().st_size  # sparse
    common = ["--params", str(tmp_path / "params.yaml"), "--prepare", str(tmp_path / "prepare")]
    common += ["--predict", str(tmp_path / "predict")]
    extra = {
        traits: ["--atypicality", str(tmp_path / "atypicality")],
        pie: ["--traits", str(tmp_path / "traits")],
    }
    for stage in (traits, stats, pie):
        name = stage.__name__.rsplit(".", 1)[1]
        stage.main(
            stage.build_parser().parse_args([*common, *extra.get(stage, []), "--out", str(tmp_path / name)])
        )
    assert (tmp_path / "traits" / "traits.parquet").is_file()
    assert (tmp_path / "stats" / "summary.json").is_file() and (tmp_path / "pie" / "summary.json").is_file()
