"""The real ``dvc repro`` on a temporary copy of the repository with a tiny config (synthetic data,
2 seeds, 1 epoch), then the DVC workflows a user relies on: up-to-date checks, forced re-runs giving
byte-identical checkpoints, experiments, metrics and plots (sharing through a remote: tests/test_team.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.io.checkpoints import load_checkpoint
from pipeline.io.files import read_json
from pipeline.io.predictions import PredictFolder, read_predictions
from pipeline.io.prepared import load_prepared

from .e2e_study import (
    CONFIGS,
    DENSE_REFERENCES,
    FAN_IN,
    cells,
    edit_params,
    env,
    lock_hashes,
    per_config,
    ran,
    restore,
    sh,
)
from .report import parse_html

pytestmark = pytest.mark.e2e


def test_every_output_is_there_and_consistent(study: Path) -> None:
    prepared = load_prepared(study / "data/prepare")
    assert (len(prepared.train), len(prepared.val), len(prepared.test)) == (448, 64, 256)
    for seed in (0, 1):
        state, meta = load_checkpoint(study / f"data/train/seed_{seed}/model.safetensors")
        assert meta.seed == seed and meta.arch == "small_cnn" and meta.kind == "member"
        assert meta.dataset_sha256 == prepared.sha256
        assert meta.params.train.epochs == 1
        assert {"torch", "torchvision", "numpy", "python"} <= set(meta.versions)
        assert "net.classifier.weight" in state and "mean" in state
        history = (study / f"reports/training/seed_{seed}.csv").read_text().splitlines()
        assert history[0].startswith("epoch,train_loss,train_acc,val_loss,val_acc") and len(history) == 2
        member = read_json(study / f"data/train/seed_{seed}/metrics.json")
        assert member["top1"] > 0.5  # 4 learnable classes, chance 0.25
    metrics = read_json(study / "reports/results.json")
    assert list(metrics) == list(CONFIGS)
    assert metrics["dense"]["members"] == 2 and metrics["dense"]["top1_drop"] == 0.0
    assert metrics["dense"]["top1_low"] <= metrics["dense"]["top1"] <= metrics["dense"]["top1_high"]
    for name in CONFIGS:
        assert {"impacted_classes", "impacted_classes_fdr", "pie_fraction", "churn", "ece_change"} <= set(
            metrics[name]
        )
    assert metrics["magnitude_50"]["size_ratio"] < 1.0 and metrics["int8_static"]["size_ratio"] < 0.3
    for seed in (0, 1):
        _, meta = load_checkpoint(study / f"data/compress/magnitude_50/seed_{seed}.safetensors")
        assert meta.kind == "cell" and meta.cell is not None and meta.cell.config == "magnitude_50"
        assert abs(meta.overall_sparsity - 0.5) < 1e-3
        table = read_predictions(PredictFolder(study / "data/predict").config("int8_static").table(seed))
        assert table["example_id"].tolist() == list(range(256))
        assert table["label"].tolist() == prepared.test.labels.tolist()
        assert table["top5"].shape == (256, 4)  # 4 classes: top-5 holds all of them


def test_the_analysis_covers_every_config(study: Path) -> None:
    """stats and pie on the synthetic run: every config, every class, consistent counts."""
    stats = read_json(study / "data/stats/summary.json")
    assert list(stats["configs"]) == list(CONFIGS) and stats["noise_floor"]["pairs"] == 1
    for name in CONFIGS:
        per_class = (study / f"data/stats/per_class/{name}.csv").read_text().splitlines()
        assert per_class[0].startswith(
            "config,class,class_name,examples,dense_recall,compressed_recall,change"
        )
        assert len(per_class) == 1 + 4
        assert (study / f"data/stats/confusion/mean/{name}.npy").is_file()
        assert (study / f"data/stats/confusion/diff/{name}.npy").is_file()
    assert not (study / "data/stats/subgroups.csv").exists()  # synthetic data has no attributes
    pie = read_json(study / "data/pie/summary.json")
    metrics = read_json(study / "reports/results.json")  # rounded to 6 decimals
    for name in CONFIGS[1:]:
        entry = pie["configs"][name]
        rows = (study / f"data/pie/{name}/pies.csv").read_text().splitlines()
        assert len(rows) == 1 + entry["pies"] and entry["pie_fraction"] == entry["pies"] / 256
        assert metrics[name]["pie_fraction"] == pytest.approx(entry["pie_fraction"], abs=1e-6)
        assert metrics[name]["impacted_classes"] == stats["configs"][name]["impacted_classes"]
        assert 0 <= metrics[name]["churn"] <= 1
    overlap = (study / "data/pie/overlap.csv").read_text().splitlines()
    assert len(overlap) == 1 + 2 * 2


def test_saliency_robustness_and_representations_cover_every_config(study: Path) -> None:
    metrics = read_json(study / "reports/results.json")  # rounded to 6 decimals
    views = {"gaussian_noise-1", "gaussian_noise-5", "rotate-1", "rotate-5"}
    for name in CONFIGS:
        assert {p.name for p in (study / f"data/predict/corrupted/{name}.d").iterdir()} == views | {
            "summary.json"
        }
        assert (study / f"data/predict/clean/{name}.d/summary.json").is_file()
        sal = read_json(study / f"data/saliency/{name}.d/summary.json")
        assert sal["members"] == 2 and sal["noise_floor"]["pairs"] == 1
        assert (study / f"data/saliency/{name}.d/examples.png").is_file()
        rob = read_json(study / f"data/robustness/{name}/summary.json")
        assert rob["corruptions"] == ["gaussian_noise", "rotate"] and rob["sample_size"] == 64
        rep = read_json(study / f"data/representations/{name}.d/summary.json")
        assert rep["layers"][-1]["layer"] == "logits"
        assert (study / f"data/representations/{name}.d/activation_max.png").is_file()
        assert metrics[name]["saliency_mad"] == pytest.approx(sal["mad"], abs=1e-6)
        assert metrics[name]["mce"] == pytest.approx(rob["mce"], abs=1e-6)
        assert metrics[name]["cka_last"] == pytest.approx(rep["cka_last"], abs=1e-6)
    # The dense population against itself.
    assert metrics["dense"]["saliency_mad"] == 0.0 and metrics["dense"]["mce"] == 1.0
    assert metrics["dense"]["cka_last"] == pytest.approx(1.0)
    assert read_json(study / "data/saliency/int8_static.d/summary.json")["straight_through"] is True
    for reference in DENSE_REFERENCES - {"atypicality", "traits"}:  # the dense side, once for every config
        assert (study / f"data/{reference}/floor.csv").is_file()
    assert read_json(study / "data/atypicality/atypicality.json")["seeds"] == [0, 1]
    assert read_json(study / "data/traits/traits.json")["layer"] == "net.classifier"
    table = read_predictions(study / "data/predict/corrupted/int8_static.d/rotate-5/seed_1.parquet")
    assert table["example_id"].size == 64 and (table["example_id"] < 256).all()


def test_second_repro_is_up_to_date(study: Path) -> None:
    out = sh(study, "dvc", "repro")
    assert "Running stage" not in out
    assert "up to date" in sh(study, "dvc", "status")


def test_metrics_and_plots_are_visible_to_dvc(study: Path) -> None:
    shown = json.dumps(json.loads(sh(study, "dvc", "metrics", "show", "--json")))
    for name in CONFIGS:  # one headline file per config; every other number only in results.json
        assert f"reports/metrics/{name}.json" in shown
    assert "top1_drop" in shown and "top1_std" not in shown
    plots = sh(study, "dvc", "plots", "show", "--json")
    assert "train_loss" in plots and "val_acc" in plots
    tables = ("reports/plots/robustness.csv", "reports/plots/cka.csv", '"config": "int8_static"')
    for field in ("pie_fraction", "floor_linear_cka", *tables):
        assert field in plots
    assert '"Top-1 against corruption severity"' in plots and '"Linear CKA with the dense member' in plots
    assert "reports/plots/robustness/" not in plots  # every config on one plot, not a plot per config


def test_the_report_page_renders_from_the_run(study: Path) -> None:
    html = (study / "reports/index.html").read_text(encoding="utf-8")
    parsed = parse_html(html)
    assert parsed.problems == [] and html.startswith("<!DOCTYPE html>")
    assert len(parsed.images) >= 6
    for src in parsed.images:  # every image the page shows is a file beside it, nothing outside reports/
        assert (study / "reports" / src).is_file() and not src.startswith(("/", "..", "http"))
    summary = parsed.tables[0]
    assert [row[0][1] for row in summary[1:]] == list(CONFIGS)  # every config of params.yaml, in order
    assert "<script" not in html and "https://" not in html


def test_forced_rerun_gives_byte_identical_checkpoints(study: Path) -> None:
    before = lock_hashes(study)
    stages = ("train@1", "compress@magnitude_50-1", "compress@int8_static-1")
    targets = [s if s.startswith("train") else f"families/compress/dvc.yaml:{s}" for s in stages]
    out = sh(study, "dvc", "repro", "-f", "-s", *targets)
    assert ran(out) == set(stages)
    assert lock_hashes(study) == before


def test_adding_a_config_runs_only_its_stages(study: Path) -> None:
    def add(raw: dict[str, Any]) -> None:
        raw["compress"]["configs"]["random_50"] = {"prune": {"method": "random", "sparsity": 0.5}}

    edit_params(study, add)
    out = sh(study, "dvc", "repro")
    assert ran(out) == cells(("random_50",), (0, 1)) | FAN_IN
    assert "random_50" in read_json(study / "reports/results.json")
    assert (study / "reports/metrics/random_50.json").is_file()
    restore(study)


def test_changing_a_config_reruns_only_its_stages(study: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["compress"]["configs"]["magnitude_50"]["prune"]["sparsity"] = 0.6

    edit_params(study, change)
    out = sh(study, "dvc", "repro")
    assert ran(out) == cells(("magnitude_50",), (0, 1)) | FAN_IN
    restore(study)


def test_changing_the_corruptions_reruns_only_the_views_their_predictions_and_robustness(study: Path) -> None:
    """The clean predictions come out unchanged, so stats and pie (which read only them) do not rerun."""

    def change(raw: dict[str, Any]) -> None:
        raw["corrupt"]["severities"] = [2]

    edit_params(study, change)
    out = sh(study, "dvc", "repro")
    again = {f"predict@{c}" for c in CONFIGS}
    assert ran(out) == {"corrupt", "validate", "robustness", "report"} | again
    assert {p.name for p in (study / "data/corrupt").iterdir()} == {
        "index.npy",
        "views.json",
        "gaussian_noise-2.npy",
        "rotate-2.npy",
    }
    restore(study)


def test_experiment_with_other_seeds_trains_only_the_new_member(study: Path) -> None:
    out = sh(study, "dvc", "exp", "run", "-S", "population.seeds=[0,1,2]")
    new_cells = {f"compress@{c}-2" for c in CONFIGS} | per_config(CONFIGS)
    assert ran(out) == {"train@2"} | FAN_IN | new_cells | DENSE_REFERENCES
    table = sh(study, "dvc", "exp", "show", "--csv")
    header = table.splitlines()[0]
    assert (
        "reports/metrics/dense.json:top1" in header
        and "reports/metrics/magnitude_50.json:top1_drop" in header
        and "reports/metrics/magnitude_50.json:pie_fraction" in header
    )
    assert read_json(study / "reports/results.json")["dense"]["members"] == 3


def test_the_per_seed_layout_reruns_nothing_and_takes_a_new_seed(study: Path) -> None:
    """Switching the compress family to one DVC file per seed (pipeline/layout.py) moves the lock entries
    along: `dvc repro` runs nothing. A seed added to params.yaml is refused until the files follow it, then
    only its member and cells run (or come from the run-cache); a forced cell writes the same bytes into its
    seed's lock."""
    restore(study)  # the committed study (an earlier test may leave an experiment in the workspace)
    before = lock_hashes(study)
    sh(study, "python", "-m", "pipeline.tools.layout", "--per-seed")
    assert "up to date" in sh(study, "dvc", "status")
    assert ran(sh(study, "dvc", "repro")) == set()
    cell = "families/compress/seed_1/dvc.yaml:compress@magnitude_50-1"
    assert ran(sh(study, "dvc", "repro", "-f", "-s", cell)) == {"compress@magnitude_50-1"}
    shards = [yaml.safe_load(p.read_text()) for p in study.glob("families/compress/seed_*/dvc.lock")]
    outs = {o["path"]: o["md5"] for lock in shards for s in lock["stages"].values() for o in s["outs"]}
    assert outs == {path: md5 for path, md5 in before.items() if path.startswith("data/compress/")}

    edit_params(study, lambda raw: raw["population"].update(seeds=[0, 1, 2]))
    result = subprocess.run(
        ["dvc", "repro"], cwd=study, env=env(), capture_output=True, text=True, check=False
    )
    refused = result.stdout + result.stderr
    assert result.returncode != 0, refused
    assert "no stage file for seeds [2]; run python -m pipeline.tools.layout --per-seed" in refused
    sh(study, "python", "-m", "pipeline.tools.layout", "--per-seed")
    out = sh(study, "dvc", "repro")  # seed 2 runs, or comes from the run-cache of an earlier experiment
    assert not {s for s in ran(out) if s.startswith(("train", "compress")) and not s.endswith("2")}
    assert all((study / f"data/compress/{c}/seed_2.safetensors").is_file() for c in CONFIGS)
    assert "up to date" in sh(study, "dvc", "status")
    restore(study)
