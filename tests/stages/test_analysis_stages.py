"""The ``stats`` and ``pie`` stages on fake CelebA-shaped data: a binary target, 40 attributes, and a
compressed population built to forget mostly examples with ``Male`` = 1."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from pipeline.analysis.atypicality import class_normalized_distance
from pipeline.config import (
    CompressionConfig,
    CompressParams,
    PieParams,
    PopulationParams,
    PruneSpec,
    QuantSpec,
    StatsParams,
    to_dict,
)
from pipeline.data.base import Split
from pipeline.data.celeba import ATTRIBUTES
from pipeline.data.prepare import Prepared
from pipeline.io.atypicality import write_atypicality
from pipeline.io.predictions import PredictFolder, write_predictions
from pipeline.io.prepared import save_prepared
from pipeline.stages import pie as pie_stage
from pipeline.stages import stats as stats_stage
from pipeline.stages import traits as traits_stage

from ..conftest import tiny_params

N = 400
SEEDS = (0, 1, 2)
MALE = ATTRIBUTES.index("Male")


def columns(labels: np.ndarray, pred: np.ndarray) -> dict[str, np.ndarray]:
    n = labels.size
    return {
        "example_id": np.arange(n, dtype=np.int32),
        "label": labels.astype(np.int16),
        "pred": pred.astype(np.int16),
        "p_pred": np.where(pred == labels, 0.9, 0.6).astype(np.float32),
        "p_label": np.where(pred == labels, 0.9, 0.4).astype(np.float32),
        "top5": np.stack([pred, 1 - pred], axis=1).astype(np.int16),
    }


@pytest.fixture
def study(tmp_path: Path) -> dict[str, Any]:
    """A prepared CelebA-shaped test split, dense and compressed predictions, and a params file."""
    rng = np.random.default_rng(0)
    attributes = (rng.random((N, len(ATTRIBUTES))) < 0.5).astype(np.uint8)
    labels = (rng.random(N) < 0.3).astype(np.int64)
    images = rng.integers(0, 256, (N, 3, 8, 8), dtype=np.uint8)
    empty = Split(images[:0], labels[:0], attributes[:0])
    test = Split(images, labels, attributes)
    data = Prepared(
        "celeba", ("not Blond_Hair", "Blond_Hair"), ATTRIBUTES, empty, empty, test, "fake", "fake"
    )
    save_prepared(tmp_path / "prepared", data)

    # Dense members: right on 90% of the examples (a different 10% per seed).
    # magnitude_50 members: the dense member of the same seed with a fixed 30% of the Male examples
    # flipped; int8_static members: with the first 60 examples flipped.
    forgotten = (attributes[:, MALE] == 1) & (rng.random(N) < 0.3)
    other = np.arange(N) < 60
    predict = PredictFolder(tmp_path / "predict")
    for seed in SEEDS:
        wrong = np.random.default_rng(100 + seed).random(N) < 0.1
        dense = np.where(wrong, 1 - labels, labels)
        comp = np.where(forgotten, 1 - dense, dense)
        quant = np.where(other, 1 - dense, dense)
        for config, pred in (("dense", dense), ("magnitude_50", comp), ("int8_static", quant)):
            logits = np.eye(2)[pred] * (2.0 + seed)  # the predicted class ahead
            write_predictions(predict.config(config).table(seed), columns(labels, pred), logits)
    features = {seed: rng.normal(size=(N, 5)) + labels[:, None] * 2.0 for seed in SEEDS}
    scores = {seed: class_normalized_distance(f, labels) for seed, f in features.items()}
    write_atypicality(tmp_path / "atypicality", "fc", 5, scores)
    params = dataclasses.replace(
        tiny_params(),
        population=PopulationParams(seeds=SEEDS),
        compress=CompressParams(
            {
                "dense": CompressionConfig(),
                "magnitude_50": CompressionConfig(prune=PruneSpec(sparsity=0.5)),
                "int8_static": CompressionConfig(quantize=QuantSpec()),
            }
        ),
        stats=StatsParams(subgroup_attributes=("Male", "Young")),
        pie=PieParams(gallery_max=20, gallery_rows=2, gallery_columns=5, gallery_cell=32),
    )
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(to_dict(params), sort_keys=False))
    return {
        "root": tmp_path,
        "predict": predict,
        "params": str(params_file),
        "forgotten": forgotten,
        "other": other,
    }


def run_stage(module: Any, study: dict[str, Any], out: str) -> Path:
    """The stage through its command line: the prepare and predict folders (and the atypicality for
    traits, the traits for pie, which runs traits first) in, ``out`` out."""
    root = study["root"]
    argv = ["--params", study["params"], "--prepare", str(root / "prepared")]
    argv += ["--predict", str(root / "predict"), "--out", str(root / out)]
    if module is traits_stage:
        argv += ["--atypicality", str(root / "atypicality")]
    if module is pie_stage:
        if not (root / "traits").is_dir():
            run_stage(traits_stage, study, "traits")
        argv += ["--traits", str(root / "traits")]
    module.main(module.build_parser().parse_args(argv))
    return Path(root / out)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_pie_stage_finds_exactly_the_forgotten_examples(study: dict[str, Any]) -> None:
    out = run_stage(pie_stage, study, "pie")
    forgotten = np.flatnonzero(study["forgotten"])
    summary = json.loads((out / "summary.json").read_text())
    entry = summary["configs"]["magnitude_50"]
    assert "dense" not in summary["configs"]
    assert entry["pies"] == forgotten.size and entry["pie_fraction"] == forgotten.size / N
    rows = read_csv(out / "magnitude_50" / "pies.csv")
    assert sorted(int(r["example_id"]) for r in rows) == forgotten.tolist()
    assert rows[0]["members"] == "3" and rows[0]["dense_votes"] in ("0:3", "1:3")
    # 20 PIEs drawn, 10 per page.
    assert sorted(p.name for p in (out / "magnitude_50").glob("*.png")) == [
        "gallery_001.png",
        "gallery_002.png",
    ]
    per_class = read_csv(out / "per_class.csv")
    assert sum(int(r["pies"]) for r in per_class if r["config"] == "magnitude_50") == forgotten.size
    # Overlap of the two PIE sets, by hand.
    both = int((study["forgotten"] & study["other"]).sum())
    either = int((study["forgotten"] | study["other"]).sum())
    assert 0 < both < either
    overlap = {(r["config_a"], r["config_b"]): r for r in read_csv(out / "overlap.csv")}
    assert len(overlap) == 4 and overlap[("magnitude_50", "magnitude_50")]["jaccard"] == "1.0"
    pair = overlap[("magnitude_50", "int8_static")]
    assert (int(pair["pies_a"]), int(pair["pies_b"])) == (forgotten.size, 60)
    assert int(pair["intersection"]) == both and float(pair["jaccard"]) == pytest.approx(both / either)
    assert overlap[("int8_static", "magnitude_50")]["jaccard"] == pair["jaccard"]


def test_stats_stage_reports_the_over_indexed_group(study: dict[str, Any]) -> None:
    out = run_stage(stats_stage, study, "stats")
    summary = json.loads((out / "summary.json").read_text())
    comp = summary["configs"]["magnitude_50"]
    assert (
        summary["configs"]["dense"]["churn"] == 0.0 and summary["configs"]["dense"]["impacted_classes"] == 0
    )
    assert comp["churn"] == pytest.approx(study["forgotten"].mean())
    assert comp["churn_noise_floor"] == summary["noise_floor"]["churn"] > 0
    assert summary["noise_floor"]["pairs"] == 3
    groups = {
        (r["attribute"], r["value"]): r
        for r in read_csv(out / "subgroups.csv")
        if r["config"] == "magnitude_50"
    }
    assert set(groups) == {("Male", "1"), ("Male", "0"), ("Young", "1"), ("Young", "0")}
    male, female = groups[("Male", "1")], groups[("Male", "0")]
    assert float(male["pie_share"]) == 1.0 and int(female["pies"]) == 0
    assert float(male["pie_over_index"]) == pytest.approx(1 / float(male["test_share"]))
    assert float(male["top1_drop"]) > 0.1 and float(female["top1_drop"]) == 0.0
    assert float(male["churn"]) > 0.2 and float(female["churn"]) == 0.0
    assert sorted(p.name for p in (out / "per_class").iterdir()) == [
        "dense.csv",
        "int8_static.csv",
        "magnitude_50.csv",
    ]
    per_class = read_csv(out / "per_class" / "magnitude_50.csv")
    assert [r["class_name"] for r in per_class] == ["not Blond_Hair", "Blond_Hair"]
    assert all(float(r["change"]) < 0 for r in per_class)
    churn = read_csv(out / "churn.csv")
    assert [r["config"] for r in churn].count("dense_vs_dense") == 3
    matrix = np.load(out / "confusion" / "mean" / "magnitude_50.npy")
    assert matrix.shape == (2, 2) and np.allclose(matrix.sum(axis=1), 1.0)
    diff = np.load(out / "confusion" / "diff" / "magnitude_50.npy")
    np.testing.assert_allclose(diff, matrix - np.load(out / "confusion" / "mean" / "dense.npy"))
    np.testing.assert_allclose(diff.sum(axis=1), 0.0, atol=1e-12)


@pytest.mark.parametrize("module", [stats_stage, traits_stage, pie_stage])
def test_stages_are_deterministic_and_replace_stale_outputs(study: dict[str, Any], module: Any) -> None:
    first = run_stage(module, study, "out")
    (first / "stale.csv").write_text("from an earlier run")
    snapshot = {
        p.relative_to(first): p.read_bytes()
        for p in first.rglob("*")
        if p.is_file() and p.name != "stale.csv"
    }
    run_stage(module, study, "out")
    again = {p.relative_to(first): p.read_bytes() for p in first.rglob("*") if p.is_file()}
    assert again == snapshot


def test_a_failing_run_keeps_the_previous_outputs(study: dict[str, Any]) -> None:
    from pipeline.config import ConfigError

    out = run_stage(stats_stage, study, "stats")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    study["predict"].config("int8_static").table(2).unlink()  # a table goes missing mid-run
    from pipeline.errors import InputCorrupt

    with pytest.raises(InputCorrupt, match=r"int8_static.d/seed_2.parquet: missing; run `dvc repro predict`"):
        run_stage(stats_stage, study, "stats")
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in study["root"].iterdir() if p.name.startswith(".")) == []
    raw = yaml.safe_load(Path(study["params"]).read_text())
    raw["stats"]["subgroup_attributes"] = ["Tall"]
    Path(study["params"]).write_text(yaml.safe_dump(raw))
    with pytest.raises(
        ConfigError, match=r"stats.subgroup_attributes: unknown attribute 'Tall'; allowed: 5_o_Clock"
    ):
        run_stage(stats_stage, study, "stats")


def test_the_owners_read_back_what_the_stages_wrote(study: dict[str, Any]) -> None:
    """The readers of pipeline/io/stats.py and pipeline/io/pie.py (the report's): numbers parsed, names
    kept as text, the dense config's per-class rows and every compressed config's confusion change."""
    from pipeline.io import pie, stats

    stats_out, pie_out = run_stage(stats_stage, study, "stats"), run_stage(pie_stage, study, "pie")
    assert list(stats.read_summary(stats_out)["configs"]) == ["dense", "magnitude_50", "int8_static"]
    rows = stats.read_per_class(stats_out, "dense")
    assert [r["class_name"] for r in rows] == ["not Blond_Hair", "Blond_Hair"] and rows[0]["change"] == 0.0
    assert rows[0]["impacted"] is False and isinstance(rows[0]["examples"], int)
    diff = stats.read_confusion_diff(stats_out, "magnitude_50")
    np.testing.assert_array_equal(diff, np.load(stats_out / "confusion" / "diff" / "magnitude_50.npy"))
    changes = stats.read_confusion_changes(stats_out)
    assert all(r["config"] in ("magnitude_50", "int8_static") and r["change"] > 0 for r in changes)
    assert pie.read_summary(pie_out)["configs"]["magnitude_50"]["pies"] == int(study["forgotten"].sum())
    overlap = pie.read_overlap(pie_out)
    assert overlap[0]["config_a"] == "magnitude_50" and overlap[0]["jaccard"] == 1.0
    assert [p.name for p in pie.PieFolder(pie_out).galleries("magnitude_50")] == [
        "gallery_001.png",
        "gallery_002.png",
    ]


def test_stats_and_pie_depend_on_the_clean_predictions_only() -> None:
    """Editing the corruptions reruns predict and robustness, not stats or pie (they read no corrupted
    view); the torch-free analyses are fan-ins of the root dvc.yaml, robustness reading corrupt's views."""
    from ..conftest import REPO

    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for name, more in (("stats", []), ("pie", ["data/traits"])):
        data = [d for d in stages[name]["deps"] if d.startswith("data/") and not d.startswith("data/code/")]
        assert data == ["data/validate", "data/prepare", "data/predict/clean", *more], name
    traits = stages["traits"]["deps"]  # the dense population's clean predictions only: no config reruns it
    assert "data/predict/clean/dense.d" in traits and "data/predict/clean" not in traits
    robustness = stages["robustness"]
    assert "matrix" not in robustness and robustness["outs"] == ["data/robustness"]
    assert {"data/corrupt", "data/predict"} <= set(robustness["deps"])
    assert robustness["params"] == ["compress", "population"]  # the views come from data/corrupt
    assert not (REPO / "families" / "robustness").exists()


def test_the_traits_stage_writes_what_the_dense_population_says(study: dict[str, Any]) -> None:
    """traits.parquet holds dense_traits of the stored dense logits, votes and atypicality, row by row, and
    pie's PIE rows carry them."""
    from pipeline.analysis.pie import vote_counts
    from pipeline.analysis.pie_traits import dense_traits
    from pipeline.analysis.population import load_population, reference_logits
    from pipeline.io.atypicality import read_atypicality
    from pipeline.io.traits import read_traits

    root = study["root"]
    out = run_stage(traits_stage, study, "traits")
    dense = load_population(study["predict"], "dense", SEEDS)
    atypicality = read_atypicality(root / "atypicality")
    want = dense_traits(
        reference_logits(study["predict"], SEEDS),
        atypicality.arrays(SEEDS),
        dense.labels,
        vote_counts(dense.pred, 2),
    )
    got = read_traits(out, dense.labels, SEEDS)
    for name in ("label_issue", "label_quality", "agreement", "margin", "entropy", "atypicality"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    rows = read_csv(run_stage(pie_stage, study, "pie") / "magnitude_50" / "pies.csv")
    first = int(rows[0]["example_id"])
    assert float(rows[0]["atypicality"]) == pytest.approx(want.atypicality[first])
    assert float(rows[0]["agreement"]) == pytest.approx(want.agreement[first])


def test_traits_that_do_not_fit_are_refused_by_name(study: dict[str, Any]) -> None:
    """Traits of other seeds, a damaged table and atypicality of another test split each stop with an
    InputCorrupt naming the file and the stage to rerun."""
    from pipeline.errors import InputCorrupt
    from pipeline.io.traits import read_traits

    root = study["root"]
    out = run_stage(traits_stage, study, "traits")
    labels = load_test_labels(root)
    with pytest.raises(
        InputCorrupt, match=r"traits.json: traits of the dense seeds \[0, 1, 2\], the population is \[0, 1\]"
    ):
        read_traits(out, labels, (0, 1))
    table = out / "traits.parquet"
    data = bytearray(table.read_bytes())
    data[len(data) // 2] ^= 0xFF
    table.write_bytes(bytes(data))
    with pytest.raises(InputCorrupt, match=r"traits.parquet: SHA-256 differs .* run `dvc repro traits`"):
        read_traits(out, labels, SEEDS)
    write_atypicality(root / "atypicality", "fc", 5, {seed: np.ones(N - 1) for seed in SEEDS})
    with pytest.raises(
        InputCorrupt,
        match=r"atypicality.json: atypicality of 399 test examples, the test split has 400; run `dvc repro",
    ):
        run_stage(traits_stage, study, "traits")


def load_test_labels(root: Path) -> np.ndarray:
    from pipeline.io.prepared import load_test_split

    return load_test_split(root / "prepared").labels
