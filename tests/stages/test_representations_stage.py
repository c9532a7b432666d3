"""The ``representations_reference`` and ``representations`` stages on a tiny study: untrained small CNNs
on the synthetic dataset (1x16x16, 4 classes), a pruned and an int8_static variant of each, three seeds."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

from pipeline.compression.load import load_model
from pipeline.config import ConfigError, RepresentationsParams
from pipeline.data.prepare import Prepared
from pipeline.errors import InputCorrupt
from pipeline.io import representations as layout
from pipeline.pixels import to_unit
from pipeline.representations.activation_max import config_maximization, dense_maximization
from pipeline.representations.compare import dense_summaries, summarize_member
from pipeline.representations.layers import capture
from pipeline.representations.similarity import linear_cka
from pipeline.sampling import sample_indices
from pipeline.stages import representations as stage
from pipeline.stages import representations_reference

from . import fake_members
from .fake_members import cell, write_study

SEEDS = (0, 1, 2)
SAMPLE = 48
LAYERS = {"net.features.1.0": 16 * 8 * 8, "net.head.1": 32 * 4 * 4, "net.classifier": 128, "logits": 4}
CONFIGS = {name: cfg for name, cfg in fake_members.CONFIGS.items() if name != "fp16"}
REPRESENTATIONS = RepresentationsParams(sample_size=SAMPLE, units=2, steps=4)
SUMMARY_KEYS = ["config", "sample_size", "members", "flatten", "layers", "cka_last", "activation_max"]
LAYER_KEYS = [
    *("layer", "units", "linear_cka", "debiased_cka", "svcca", "svcca_dims_dense", "svcca_dims_compressed"),
    *("floor_linear_cka", "floor_debiased_cka", "floor_svcca"),
]
ACTIVATION_KEYS = [
    *("layer", "seed", "units"),
    *("dense_on_dense", "dense_on_compressed", "compressed_on_compressed", "compressed_on_dense"),
]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, tiny_data: Prepared) -> Path:
    """Prepared data, members of every config and seed, a params file and the dense reference under one
    folder."""
    root = tmp_path_factory.mktemp("representations")
    write_study(root, tiny_data, SEEDS, CONFIGS)
    write_params(root / "params.yaml", REPRESENTATIONS)
    fake_members.run_reference(representations_reference, root, root / "reference")
    return root


def write_params(path: Path, cfg: RepresentationsParams, seeds: tuple[int, ...] = SEEDS) -> Path:
    return fake_members.write_params(path, CONFIGS, seeds, representations=cfg)


def run_stage(root: Path, config: str, out: Path, params: Path | None = None) -> Path:
    """The config's folder under ``out``, made against the study's reference, or against a reference made
    for ``params`` beside it."""
    reference = root / "reference"
    if params is not None:
        reference = params.parent / "reference"
        fake_members.run_reference(representations_reference, root, reference, params)
    return fake_members.run_stage(stage, root, config, out, reference, params)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def header(path: Path) -> list[str]:
    return path.read_text().splitlines()[0].split(",")


def summary_of(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "summary.json").read_text()))


def contents(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def sample(data: Prepared) -> torch.Tensor:
    return to_unit(torch.from_numpy(data.test.images[sample_indices(len(data.test), SAMPLE, 0)]))


def test_the_reference_rebuilds_every_dense_summary_bit_for_bit(study: Path, tiny_data: Prepared) -> None:
    reference = layout.read_reference(study / "reference")
    assert reference.seeds == list(SEEDS) and reference.layers == LAYERS
    assert reference.example_ids.tolist() == sample_indices(len(tiny_data.test), SAMPLE, 0).tolist()
    images = sample(tiny_data)
    for seed in SEEDS:
        fresh = summarize_member(load_model(cell(study, "dense", seed))[0], images, 0.99)
        stored = dense_summaries(reference, seed)
        assert list(stored) == list(fresh)
        for name, summary in fresh.items():
            got = stored[name]
            assert got.width == summary.width and got.basis.tobytes() == summary.basis.tobytes()
            assert got.basis.strides == summary.basis.strides  # the same memory order: the same BLAS path
            for field in dataclasses.fields(summary.cka):
                a, b = getattr(got.cka, field.name), getattr(summary.cka, field.name)
                assert (a.tobytes() == b.tobytes()) if isinstance(b, np.ndarray) else a == b, field.name
    # the gram form (p >= n) stores the Gram matrix, the feature form (p < n) its centered features
    assert sorted(p.name for p in (study / "reference" / "seed_0").iterdir()) == [
        f"{layer}.{array}.npy"
        for layer, array in sorted(
            [(n, "basis") for n in LAYERS] + [(n, "gram" if w >= SAMPLE else "xc") for n, w in LAYERS.items()]
        )
    ]
    pictures = np.load(study / "reference" / layout.IMAGES)
    entry, fresh_pictures = dense_maximization(
        load_model(cell(study, "dense", 0))[0], REPRESENTATIONS, 0, (1, 16, 16)
    )
    assert pictures.tobytes() == fresh_pictures.tobytes() and reference.entry == entry


def test_dense_config_is_identical_to_itself_at_every_layer(study: Path, tmp_path: Path) -> None:
    out = run_stage(study, "dense", tmp_path)
    assert sorted(p.name for p in out.iterdir()) == ["activation_max.png", "per_layer.csv", "summary.json"]
    summary = summary_of(out)
    assert list(summary) == SUMMARY_KEYS
    assert (summary["config"], summary["sample_size"], summary["members"]) == ("dense", SAMPLE, len(SEEDS))
    assert summary["flatten"] == "per example: C x H x W in C order"
    assert [(e["layer"], e["units"]) for e in summary["layers"]] == list(LAYERS.items())
    for entry in summary["layers"]:
        assert list(entry) == LAYER_KEYS
        for key in ("linear_cka", "debiased_cka", "svcca"):
            assert entry[key] == pytest.approx(1.0, abs=1e-9), (entry["layer"], key)
            assert 0.0 < entry[f"floor_{key}"] < 1.0  # members of different seeds differ
        assert entry["svcca_dims_dense"] == entry["svcca_dims_compressed"]
    assert summary["cka_last"] == summary["layers"][-1]["linear_cka"]

    assert header(out / "per_layer.csv") == layout.PER_LAYER_COLUMNS
    rows = read_csv(out / "per_layer.csv")
    assert [(int(r["seed"]), r["layer"]) for r in rows] == [(s, n) for s in SEEDS for n in LAYERS]
    floor_csv = study / "reference" / layout.FLOOR
    assert header(floor_csv) == layout.FLOOR_COLUMNS
    floor = read_csv(floor_csv)
    pairs = [(0, 1), (0, 2), (1, 2)]
    assert [(int(r["seed_a"]), int(r["seed_b"]), r["layer"]) for r in floor] == [
        (a, b, n) for a, b in pairs for n in LAYERS
    ]
    first = summary["layers"][0]
    assert first["floor_linear_cka"] == pytest.approx(
        np.mean([float(r["linear_cka"]) for r in floor if r["layer"] == first["layer"]]), rel=1e-12
    )

    act = summary["activation_max"]
    assert list(act) == ACTIVATION_KEYS
    assert (act["layer"], act["seed"], act["units"]) == ("net.features.1.0", SEEDS[0], [0, 1])
    assert act["dense_on_dense"] == act["compressed_on_compressed"] == act["dense_on_compressed"]


def test_pruned_members_match_linear_cka_by_hand(study: Path, tmp_path: Path, tiny_data: Prepared) -> None:
    out = run_stage(study, "magnitude_50", tmp_path)
    summary = summary_of(out)
    for entry in summary["layers"]:
        assert 0.0 < entry["linear_cka"] < 1.0 and 0.0 < entry["svcca"] < 1.0
    rows = read_csv(out / "per_layer.csv")
    assert all(0.0 < float(r["linear_cka"]) < 1.0 for r in rows)

    seed, layer = SEEDS[1], "net.head.1"
    images = sample(tiny_data)
    x, y = (
        capture(load_model(cell(study, c, seed))[0], [layer], images)[layer]
        for c in ("dense", "magnitude_50")
    )
    (row,) = [r for r in rows if int(r["seed"]) == seed and r["layer"] == layer]
    assert float(row["linear_cka"]) == pytest.approx(linear_cka(x, y), abs=1e-10)
    assert int(row["units"]) == x.shape[1] == LAYERS[layer]
    seed_means = np.mean([float(r["linear_cka"]) for r in rows if r["layer"] == layer])
    (entry,) = [e for e in summary["layers"] if e["layer"] == layer]
    assert entry["linear_cka"] == pytest.approx(seed_means, rel=1e-12)

    # the noise floor is a property of the dense members: the same for every config
    dense = summary_of(run_stage(study, "dense", tmp_path))
    for key in ("floor_linear_cka", "floor_debiased_cka", "floor_svcca"):
        assert [e[key] for e in summary["layers"]] == [e[key] for e in dense["layers"]]
    act = summary["activation_max"]
    assert act["dense_on_dense"] != act["compressed_on_compressed"]
    assert act["dense_on_dense"] == dense["activation_max"]["dense_on_dense"]
    assert all(len(act[k]) == 2 for k in ACTIVATION_KEYS[3:])


def test_a_config_loads_only_the_first_dense_member(study: Path, tmp_path: Path) -> None:
    """Every dense representation comes from the reference: with only the first seed's dense member
    (shown the cell's maximizing images) a config's stage gives the same bytes; without any, the dense
    config still runs."""
    before = contents(run_stage(study, "magnitude_50", tmp_path / "a"))
    dense_before = contents(run_stage(study, "dense", tmp_path / "a"))
    copy = tmp_path / "study"
    shutil.copytree(study, copy)
    for seed in SEEDS[1:]:
        cell(copy, "dense", seed).unlink()
    again = fake_members.run_stage(stage, copy, "magnitude_50", tmp_path / "b", copy / "reference")
    assert contents(again) == before
    shutil.rmtree(copy / "compress" / "dense")
    again = fake_members.run_stage(stage, copy, "dense", tmp_path / "b", copy / "reference")
    assert contents(again) == dense_before


def test_quantized_members_are_compared_layer_by_layer(
    study: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pipeline.representations")
    summary = summary_of(run_stage(study, "int8_static", tmp_path))
    assert [e["layer"] for e in summary["layers"]] == list(LAYERS)
    for entry in summary["layers"]:
        assert 0.9 < entry["linear_cka"] < 1.0, entry  # int8 stays close to its dense member
    lines = [r.getMessage() for r in caplog.records if r.name == "pipeline.representations"]
    assert [line.split(":")[0] for line in lines] == [f"int8_static seed {s}" for s in SEEDS] + [
        "int8_static"
    ]
    assert "net.head.1 " in lines[0] and "logits linear CKA 0.9" in lines[-1]


def test_every_file_is_byte_identical_on_rerun(study: Path, tmp_path: Path) -> None:
    first = contents(run_stage(study, "magnitude_50", tmp_path / "a"))
    second = contents(run_stage(study, "magnitude_50", tmp_path / "b"))
    assert list(first) == ["activation_max.png", "per_layer.csv", "summary.json"]
    assert first == second
    again = fake_members.run_reference(representations_reference, study, tmp_path / "reference")
    assert contents(again) == contents(study / "reference")


def test_no_units_writes_no_picture(study: Path, tmp_path: Path) -> None:
    params = write_params(tmp_path / "params.yaml", dataclasses.replace(REPRESENTATIONS, units=0))
    out = run_stage(study, "magnitude_50", tmp_path / "out", params)
    assert not (out / "activation_max.png").exists()
    assert summary_of(out)["activation_max"] is None
    assert not (tmp_path / "reference" / layout.IMAGES).exists()


def test_units_may_be_every_channel_of_the_last_conv(study: Path) -> None:
    dense, member = (load_model(cell(study, c, 0))[0] for c in ("dense", "int8_static"))
    cfg = dataclasses.replace(REPRESENTATIONS, units=32, steps=1)
    entry, a = dense_maximization(dense, cfg, 0, (1, 16, 16))
    act, b = config_maximization(entry, a, member, lambda: dense, cfg)
    assert act["units"] == list(range(32)) and a.shape == b.shape == (32, 1, 16, 16)
    assert list(act) == ACTIVATION_KEYS and all(len(act[key]) == 32 for key in ACTIVATION_KEYS[3:])


def test_more_units_than_channels_is_refused_before_any_write(study: Path, tmp_path: Path) -> None:
    """No silent cut to the 32 channels of the last conv: the params would claim units never drawn."""
    params = write_params(tmp_path / "params.yaml", dataclasses.replace(REPRESENTATIONS, units=33))
    with pytest.raises(
        ConfigError, match=r"^representations\.units: 33 is more than the 32 channels.*most 32$"
    ):
        run_stage(study, "dense", tmp_path / "out", params)
    assert not (tmp_path / "out").exists() and not (tmp_path / "reference").exists()


def test_a_sample_larger_than_the_test_split_is_refused(study: Path, tmp_path: Path) -> None:
    params = write_params(tmp_path / "params.yaml", dataclasses.replace(REPRESENTATIONS, sample_size=257))
    with pytest.raises(ConfigError, match=r"^representations\.sample_size: 257 is more than the 256 test"):
        fake_members.run_stage(stage, study, "dense", tmp_path / "out", study / "reference", params)
    with pytest.raises(ConfigError, match=r"^representations\.sample_size: 257 is more than the 256 test"):
        run_stage(study, "dense", tmp_path / "out", params)
    assert not (tmp_path / "out").exists()


def test_one_seed_has_no_floor(study: Path, tmp_path: Path) -> None:
    params = write_params(tmp_path / "params.yaml", REPRESENTATIONS, seeds=(1,))
    out = run_stage(study, "magnitude_50", tmp_path / "out", params)
    summary = summary_of(out)
    assert summary["members"] == 1
    assert all(e[f"floor_{k}"] is None for e in summary["layers"] for k in ("linear_cka", "svcca"))
    floor = tmp_path / "reference" / layout.FLOOR
    assert read_csv(floor) == [] and header(floor) == layout.FLOOR_COLUMNS


@pytest.mark.parametrize(
    "changed", [{"units": 3}, {"lr": 0.1}, {"svcca_keep": 0.9}, {"sample_seed": 1}, {"steps": 5}]
)
def test_a_reference_made_with_other_params_is_refused(
    study: Path, tmp_path: Path, changed: dict[str, Any]
) -> None:
    params = write_params(tmp_path / "params.yaml", dataclasses.replace(REPRESENTATIONS, **changed))
    with pytest.raises(
        InputCorrupt,
        match=r"reference: made with representations \{'sample_size': 48.*seeds \[0, 1, 2\] and 48",
    ):
        fake_members.run_stage(stage, study, "magnitude_50", tmp_path / "out", study / "reference", params)
    assert not (tmp_path / "out").exists()


def test_an_altered_reference_is_refused(study: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(study / "reference", reference)
    gram = reference / "seed_2" / "net.head.1.gram.npy"
    np.save(gram, np.zeros_like(np.load(gram)))
    with pytest.raises(InputCorrupt, match=r"net\.head\.1\.gram\.npy: SHA-256 differs"):
        fake_members.run_stage(stage, study, "magnitude_50", tmp_path / "out", reference)


def test_unknown_config_names_the_defined_ones(study: Path, tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="no config named 'nope'; defined: dense, magnitude_50, int8_static"
    ):
        run_stage(study, "nope", tmp_path / "out")


def test_too_small_a_sample_is_refused(study: Path, tmp_path: Path) -> None:
    params = write_params(tmp_path / "params.yaml", dataclasses.replace(REPRESENTATIONS, sample_size=3))
    with pytest.raises(ConfigError, match=r"representations\.sample_size: need at least 4"):
        run_stage(study, "dense", tmp_path / "out", params)


def test_a_failure_midway_leaves_the_previous_outputs(study: Path, tmp_path: Path) -> None:
    out = run_stage(study, "magnitude_50", tmp_path / "out")
    before = contents(out)
    last = cell(study, "magnitude_50", SEEDS[-1])
    moved = last.with_suffix(".away")
    last.rename(moved)
    try:
        with pytest.raises(InputCorrupt, match=rf"{last.name}: missing"):
            run_stage(study, "magnitude_50", tmp_path / "out")
    finally:
        moved.rename(last)
    assert contents(out) == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["magnitude_50.d"]  # no partial folder


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("dense", "train.epochs: must be >= 1 and <= 1000, got -3"),
        ("nope", "compress.configs: no config named 'nope'; defined: dense"),
    ],
)
def test_the_command_fails_in_one_line_before_any_work(tmp_path: Path, config: str, message: str) -> None:
    from ..conftest import REPO
    from ..test_config import with_change

    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(with_change("train", "epochs", -3 if config == "dense" else 1)))
    out = tmp_path / "out"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pipeline.stages.representations", "--params", str(params)),
            *("--config", config, "--prepare", str(tmp_path), "--compress", str(tmp_path)),
            *("--reference", str(tmp_path), "--out", str(out)),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and message in line
    assert not out.exists()


def test_the_owner_reads_back_what_the_report_reads(study: Path, tmp_path: Path) -> None:
    out = run_stage(study, "int8_static", tmp_path)
    folder = layout.RepresentationsFolder(tmp_path)
    assert folder.config("int8_static") == out and folder.read_summary("int8_static") == summary_of(out)
    assert folder.activation_image("int8_static") == out / "activation_max.png"
    assert folder.read_summary("dense", required=False) is None and folder.activation_image("dense") is None
    with pytest.raises(
        InputCorrupt, match=r"dense\.d/summary\.json: missing; run `dvc repro representations@dense`"
    ):
        folder.read_summary("dense")
