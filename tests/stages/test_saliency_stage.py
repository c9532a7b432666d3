"""The ``saliency_reference`` and ``saliency`` stages on a tiny study: untrained small CNNs on the synthetic
dataset, a pruned and two quantized variants of each, three seeds."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from pipeline.compression.load import load_model
from pipeline.config import ConfigError, SaliencyParams
from pipeline.data.prepare import Prepared
from pipeline.errors import InputCorrupt
from pipeline.io import saliency as layout
from pipeline.pixels import to_unit
from pipeline.saliency.figure import DPI, PANEL_INCHES, TITLE_INCHES
from pipeline.saliency.maps import saliency_maps
from pipeline.saliency.metrics import METRICS, compare
from pipeline.sampling import sample_indices
from pipeline.stages import saliency as saliency_stage
from pipeline.stages import saliency_reference

from . import fake_members
from .fake_members import CONFIGS, cell, write_study

SEEDS = (0, 1, 2)
SAMPLE = 12


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, tiny_data: Prepared) -> Path:
    """Prepared data, members of every config and seed, a params file and the dense reference under one
    folder."""
    root = tmp_path_factory.mktemp("saliency")
    write_study(root, tiny_data, SEEDS, CONFIGS)
    write_params(root / "params.yaml", SaliencyParams(sample_size=SAMPLE, examples=2))
    fake_members.run_reference(saliency_reference, root, root / "reference")
    return root


def write_params(path: Path, saliency: SaliencyParams, seeds: tuple[int, ...] = SEEDS) -> Path:
    return fake_members.write_params(path, CONFIGS, seeds, saliency=saliency)


def run_stage(root: Path, config: str, out: Path, params: Path | None = None) -> Path:
    """The config's folder under ``out``, made against the study's reference, or against a reference made
    for ``params`` beside it."""
    reference = root / "reference"
    if params is not None:
        reference = fake_members.run_reference(saliency_reference, root, params.parent / "reference", params)
    return fake_members.run_stage(saliency_stage, root, config, out, reference, params)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def summary_of(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "summary.json").read_text()))


def contents(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def sample_inputs(data: Prepared) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    ids = sample_indices(len(data.test), SAMPLE, 0)
    return ids, to_unit(torch.from_numpy(data.test.images[ids])), torch.from_numpy(data.test.labels[ids])


def test_the_reference_holds_every_dense_members_maps_and_the_floor(study: Path, tiny_data: Prepared) -> None:
    ids, images, targets = sample_inputs(tiny_data)
    reference = layout.read_reference(study / "reference")
    assert reference.params == {"method": "gradient", "sample_size": SAMPLE, "sample_seed": 0, "steps": 32}
    assert reference.example_ids.tolist() == ids.tolist()
    assert list(reference.maps) == list(SEEDS) and list(reference.floor) == [(0, 1), (0, 2), (1, 2)]
    for seed in SEEDS:
        fresh = saliency_maps(load_model(cell(study, "dense", seed))[0], images, targets)
        assert reference.maps[seed].dtype == np.float32
        assert reference.maps[seed].tobytes() == fresh.tobytes()  # the exact bytes
    expected = compare(reference.maps[0], reference.maps[2])
    for name in METRICS:  # each measure in its own dtype, so that its mean is taken as of fresh maps
        assert reference.floor[(0, 2)][name].dtype == expected[name].dtype
        np.testing.assert_array_equal(reference.floor[(0, 2)][name], expected[name])
    pairs = read_csv(study / "reference" / layout.FLOOR)
    assert [(int(r["seed_a"]), int(r["seed_b"])) for r in pairs] == [(0, 1), (0, 2), (1, 2)]
    assert list(pairs[0]) == layout.FLOOR_COLUMNS


def test_dense_config_compares_the_dense_members_with_themselves(study: Path, tmp_path: Path) -> None:
    out = run_stage(study, "dense", tmp_path)
    assert out == tmp_path / "dense.d"
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
    pairs = read_csv(study / "reference" / layout.FLOOR)
    assert np.mean([float(r["mad"]) for r in pairs]) == pytest.approx(floor["mad"], rel=1e-6)


def test_pruned_members_match_compare_by_hand(study: Path, tmp_path: Path, tiny_data: Prepared) -> None:
    out = run_stage(study, "magnitude_50", tmp_path)
    summary = summary_of(out)
    assert summary["mad"] > 0 and summary["spearman"] < 1 and summary["straight_through"] is False
    assert summary["mad_over_floor"] == pytest.approx(summary["mad"] / summary["noise_floor"]["mad"])

    ids, images, targets = sample_inputs(tiny_data)
    seed = SEEDS[1]
    maps = [
        saliency_maps(load_model(cell(study, c, seed))[0], images, targets) for c in ("dense", "magnitude_50")
    ]
    expected = compare(*maps)
    rows = [r for r in read_csv(out / "per_image.csv") if int(r["seed"]) == seed]
    assert [int(r["example_id"]) for r in rows] == ids.tolist()
    assert [r["label_name"] for r in rows] == [tiny_data.class_names[c] for c in targets]
    for name in METRICS:
        np.testing.assert_allclose([float(r[name]) for r in rows], expected[name], rtol=1e-6)
        assert summary["per_seed"][1][name] == pytest.approx(float(np.mean(expected[name])), rel=1e-6)


def test_a_config_loads_no_dense_member(study: Path, tmp_path: Path) -> None:
    """Every dense map comes from the reference: without the dense cells, a config's stage still runs,
    and gives the same bytes."""
    before = contents(run_stage(study, "magnitude_50", tmp_path / "a"))
    copy = tmp_path / "study"
    shutil.copytree(study, copy, ignore=shutil.ignore_patterns("dense"))
    assert not (copy / "compress" / "dense").exists()
    assert (
        contents(
            fake_members.run_stage(saliency_stage, copy, "magnitude_50", tmp_path / "b", copy / "reference")
        )
        == before
    )


@pytest.mark.parametrize(("config", "through"), [("int8_static", True), ("fp16", False)])
def test_straight_through_only_for_integer_quantization(
    study: Path, tmp_path: Path, config: str, through: bool
) -> None:
    summary = summary_of(run_stage(study, config, tmp_path))
    assert summary["straight_through"] is through
    assert ("straight-through" in summary["note"]) is through
    assert summary["mad"] > 0


def test_examples_png_and_byte_identical_reruns(study: Path, tmp_path: Path) -> None:
    from PIL import Image

    out = run_stage(study, "int8_static", tmp_path)
    first = contents(out)
    assert sorted(first) == ["examples.png", "per_image.csv", "summary.json"]
    with Image.open(out / "examples.png") as png:
        assert png.size == (4 * PANEL_INCHES * DPI, (2 * PANEL_INCHES + TITLE_INCHES) * DPI)
        assert "Software" not in png.info
    assert contents(run_stage(study, "int8_static", tmp_path)) == first
    reference = study / "reference"
    again = fake_members.run_reference(saliency_reference, study, tmp_path / "reference")
    assert contents(again) == contents(reference)
    assert sorted(contents(again)) == [
        "floor.csv",
        *(f"floor/{name}.npy" for name in sorted(METRICS)),
        *(f"maps/seed_{seed}.npy" for seed in SEEDS),
        "reference.json",
    ]


def test_no_examples_no_png(study: Path, tmp_path: Path) -> None:
    params = write_params(tmp_path / "params.yaml", SaliencyParams(sample_size=4, examples=0))
    out = run_stage(study, "magnitude_50", tmp_path / "out", params)
    assert sorted(contents(out)) == ["per_image.csv", "summary.json"]


@pytest.mark.parametrize(
    ("saliency", "message"),
    [
        (SaliencyParams(sample_size=257), r"^saliency\.sample_size: 257 is more than the 256 test images"),
        (SaliencyParams(sample_size=4, examples=5), r"^saliency\.examples: 5 is more than the 4 sampled"),
    ],
)
@pytest.mark.parametrize("stage", [saliency_reference, saliency_stage])
def test_no_silent_cap_of_the_sample(
    study: Path, tmp_path: Path, saliency: SaliencyParams, message: str, stage: Any
) -> None:
    params = write_params(tmp_path / "params.yaml", saliency)
    with pytest.raises(ConfigError, match=message):
        if stage is saliency_reference:
            fake_members.run_reference(stage, study, tmp_path / "out", params)
        else:
            fake_members.run_stage(
                stage, study, "magnitude_50", tmp_path / "out", study / "reference", params
            )
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
    assert read_csv(tmp_path / "reference" / layout.FLOOR) == []


@pytest.mark.parametrize(
    ("saliency", "seeds"),
    [
        (SaliencyParams(sample_size=SAMPLE, examples=2), (0, 1)),
        (SaliencyParams(sample_size=SAMPLE, examples=2, steps=8), SEEDS),  # integrated gradients' steps
        (SaliencyParams(sample_size=SAMPLE, examples=2, sample_seed=1), SEEDS),
    ],
)
def test_a_reference_made_with_other_params_is_refused(
    study: Path, tmp_path: Path, saliency: SaliencyParams, seeds: tuple[int, ...]
) -> None:
    params = write_params(tmp_path / "params.yaml", saliency, seeds=seeds)
    with pytest.raises(
        InputCorrupt,
        match=r"reference: made with saliency \{'method': 'gradient'.*seeds \[0, 1, 2\].*saliency_reference",
    ):
        fake_members.run_stage(
            saliency_stage, study, "magnitude_50", tmp_path / "out", study / "reference", params
        )
    assert not (tmp_path / "out").exists()


def test_the_examples_drawn_are_no_part_of_the_reference(study: Path, tmp_path: Path) -> None:
    params = write_params(tmp_path / "params.yaml", SaliencyParams(sample_size=SAMPLE, examples=0))
    out = fake_members.run_stage(saliency_stage, study, "magnitude_50", tmp_path, study / "reference", params)
    assert sorted(p.name for p in out.iterdir()) == ["per_image.csv", "summary.json"]


def test_an_altered_reference_is_refused(study: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(study / "reference", reference)
    maps = reference / "maps" / "seed_1.npy"
    np.save(maps, np.zeros_like(np.load(maps)))
    with pytest.raises(InputCorrupt, match=r"seed_1\.npy: SHA-256 differs"):
        fake_members.run_stage(saliency_stage, study, "fp16", tmp_path / "out", reference)


def test_unknown_config_lists_the_defined_ones(study: Path, tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="no config named 'nope'; defined: dense, magnitude_50, int8_static, fp16"
    ):
        run_stage(study, "nope", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_failure_leaves_the_previous_outputs(study: Path, tmp_path: Path) -> None:
    out = run_stage(study, "fp16", tmp_path / "out")
    before = contents(out)
    last = cell(study, "fp16", SEEDS[-1])
    moved = last.with_suffix(".away")
    last.rename(moved)
    try:
        with pytest.raises(InputCorrupt, match=rf"{last.name}: missing"):
            run_stage(study, "fp16", tmp_path / "out")
    finally:
        moved.rename(last)
    assert contents(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left behind
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fp16.d"]


def test_the_owner_reads_back_what_the_report_reads(study: Path, tmp_path: Path) -> None:
    out = run_stage(study, "fp16", tmp_path)
    folder = layout.SaliencyFolder(tmp_path)
    assert folder.config("fp16") == out and folder.read_summary("fp16") == summary_of(out)
    assert folder.examples_image("fp16") == out / "examples.png"
    assert folder.read_summary("dense", required=False) is None and folder.examples_image("dense") is None
    with pytest.raises(
        InputCorrupt, match=r"dense\.d/summary\.json: missing; run `dvc repro saliency@dense`"
    ):
        folder.read_summary("dense")
