"""The ``saliency`` stage on a tiny study: untrained small CNNs on the synthetic dataset, a pruned and two
quantized variants of each, three seeds."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from pipeline.compression.load import load_model
from pipeline.config import (
    ConfigError,
    SaliencyParams,
)
from pipeline.data.prepare import Prepared
from pipeline.errors import InputCorrupt
from pipeline.saliency.maps import saliency_maps
from pipeline.saliency.metrics import compare
from pipeline.sampling import sample_indices
from pipeline.stages import saliency as saliency_stage

from . import fake_members
from .fake_members import CONFIGS, MEMBERS, write_study

SEEDS = (0, 1, 2)
SAMPLE = 12


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, tiny_data: Prepared) -> Path:
    """Prepared data, members of every config and seed, and a params file under one folder."""
    root = tmp_path_factory.mktemp("saliency")
    write_study(root, tiny_data, SEEDS, CONFIGS)
    write_params(root / "params.yaml", SaliencyParams(sample_size=SAMPLE, examples=2))
    return root


def write_params(path: Path, saliency: SaliencyParams, seeds: tuple[int, ...] = SEEDS) -> Path:
    return fake_members.write_params(path, CONFIGS, seeds, saliency=saliency)


def run_stage(root: Path, config: str, out: Path, params: Path | None = None) -> Path:
    return fake_members.run_stage(saliency_stage, root, config, out, params)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def summary_of(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "summary.json").read_text()))


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_dense_config_compares_the_dense_members_with_themselves(study: Path, tmp_path: Path) -> None:
    out = run_stage(study, "dense", tmp_path / "dense")
    summary = summary_of(out)
    assert list(summary) == [
        *("config", "method", "sample_size", "members", "straight_through", "note"),
        *("mad", "signed", "spearman", "top_overlap", "per_seed", "noise_floor", "mad_over_floor"),
    ]
    assert (summary["config"], summary["method"], summary["sample_size"], summary["members"]) == (
        "dense",
        "gradient",
        SAMPLE,
        len(SEEDS),
    )
    assert summary["mad"] == 0.0 and summary["signed"] == 0.0
    assert summary["spearman"] == 1.0 and summary["top_overlap"] == 1.0
    assert summary["straight_through"] is False and "exact gradients" in summary["note"]
    assert [s["seed"] for s in summary["per_seed"]] == list(SEEDS)
    floor = summary["noise_floor"]
    assert floor["pairs"] == len(SEEDS) * (len(SEEDS) - 1) // 2 and floor["mad"] > 0
    assert summary["mad_over_floor"] == 0.0
    rows = read_csv(out / "per_image.csv")
    assert len(rows) == len(SEEDS) * SAMPLE and all(float(r["mad"]) == 0.0 for r in rows)
    pairs = read_csv(out / "floor.csv")
    assert [(int(r["seed_a"]), int(r["seed_b"])) for r in pairs] == [(0, 1), (0, 2), (1, 2)]
    assert np.mean([float(r["mad"]) for r in pairs]) == pytest.approx(floor["mad"], rel=1e-6)


def test_pruned_members_match_compare_by_hand(study: Path, tmp_path: Path, tiny_data: Prepared) -> None:
    out = run_stage(study, "magnitude_50", tmp_path / "pruned")
    summary = summary_of(out)
    assert summary["mad"] > 0 and summary["spearman"] < 1 and summary["straight_through"] is False
    assert summary["mad_over_floor"] == pytest.approx(summary["mad"] / summary["noise_floor"]["mad"])

    ids = sample_indices(len(tiny_data.test), SAMPLE, 0)
    images = torch.from_numpy(tiny_data.test.images[ids]).float() / 255.0
    targets = torch.from_numpy(tiny_data.test.labels[ids])
    seed = SEEDS[1]
    maps = [
        saliency_maps(load_model(study / MEMBERS.format(config=c).format(seed=seed))[0], images, targets)
        for c in ("dense", "magnitude_50")
    ]
    expected = compare(*maps)
    rows = [r for r in read_csv(out / "per_image.csv") if int(r["seed"]) == seed]
    assert [int(r["example_id"]) for r in rows] == ids.tolist()
    assert [r["label_name"] for r in rows] == [tiny_data.class_names[c] for c in targets]
    for name in saliency_stage.METRICS:
        np.testing.assert_allclose([float(r[name]) for r in rows], expected[name], rtol=1e-6)
        assert summary["per_seed"][1][name] == pytest.approx(float(np.mean(expected[name])), rel=1e-6)


@pytest.mark.parametrize(("config", "through"), [("int8_static", True), ("fp16", False)])
def test_straight_through_only_for_integer_quantization(
    study: Path, tmp_path: Path, config: str, through: bool
) -> None:
    summary = summary_of(run_stage(study, config, tmp_path / config))
    assert summary["straight_through"] is through
    assert ("straight-through" in summary["note"]) is through
    assert summary["mad"] > 0


def test_examples_png_and_byte_identical_reruns(study: Path, tmp_path: Path) -> None:
    from PIL import Image

    out = run_stage(study, "int8_static", tmp_path / "q")
    first = contents(out)
    assert sorted(first) == ["examples.png", "floor.csv", "per_image.csv", "summary.json"]
    with Image.open(out / "examples.png") as png:
        width = 4 * saliency_stage.PANEL_INCHES * saliency_stage.DPI
        height = (2 * saliency_stage.PANEL_INCHES + saliency_stage.TITLE_INCHES) * saliency_stage.DPI
        assert png.size == (width, height)
        assert "Software" not in png.info
    assert contents(run_stage(study, "int8_static", out)) == first


def test_no_examples_no_png(study: Path, tmp_path: Path) -> None:
    params = write_params(tmp_path / "params.yaml", SaliencyParams(sample_size=4, examples=0))
    out = run_stage(study, "magnitude_50", tmp_path / "out", params)
    assert sorted(contents(out)) == ["floor.csv", "per_image.csv", "summary.json"]


@pytest.mark.parametrize(
    ("saliency", "message"),
    [
        (SaliencyParams(sample_size=257), r"^saliency\.sample_size: 257 is more than the 256 test images"),
        (SaliencyParams(sample_size=4, examples=5), r"^saliency\.examples: 5 is more than the 4 sampled"),
    ],
)
def test_no_silent_cap_of_the_sample(
    study: Path, tmp_path: Path, saliency: SaliencyParams, message: str
) -> None:
    params = write_params(tmp_path / "params.yaml", saliency)
    with pytest.raises(ConfigError, match=message):
        run_stage(study, "magnitude_50", tmp_path / "out", params)
    assert not (tmp_path / "out").exists()


def test_single_seed_has_no_noise_floor(study: Path, tmp_path: Path) -> None:
    params = write_params(tmp_path / "params.yaml", SaliencyParams(sample_size=4, examples=0), seeds=(1,))
    out = run_stage(study, "magnitude_50", tmp_path / "out", params)
    text = (out / "summary.json").read_text()
    assert "NaN" not in text
    summary = json.loads(text)
    assert summary["noise_floor"] == {
        "pairs": 0,
        "mad": None,
        "signed": None,
        "spearman": None,
        "top_overlap": None,
    }
    assert summary["mad_over_floor"] is None and summary["members"] == 1
    assert read_csv(out / "floor.csv") == []


def test_unknown_config_lists_the_defined_ones(study: Path, tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="no config named 'nope'; defined: dense, magnitude_50, int8_static, fp16"
    ):
        run_stage(study, "nope", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_failure_leaves_the_previous_outputs(study: Path, tmp_path: Path) -> None:
    out = run_stage(study, "fp16", tmp_path / "out")
    before = contents(out)
    last = study / MEMBERS.format(config="fp16").format(seed=SEEDS[-1])
    moved = last.with_suffix(".away")
    last.rename(moved)
    try:
        with pytest.raises(InputCorrupt, match=rf"{last.name}: missing"):
            run_stage(study, "fp16", out)
    finally:
        moved.rename(last)
    assert contents(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left behind


def test_mean_metrics_skips_undefined_values() -> None:
    groups = [
        {name: np.array([0.5, np.nan]) for name in saliency_stage.METRICS},
        {name: np.array([1.0]) for name in saliency_stage.METRICS},
    ]
    assert saliency_stage.mean_metrics(groups) == dict.fromkeys(saliency_stage.METRICS, 0.75)
    assert saliency_stage.mean_metrics([]) == dict.fromkeys(saliency_stage.METRICS, None)
    assert saliency_stage.seed_pairs([3, 1, 2]) == [(3, 1), (3, 2), (1, 2)]
