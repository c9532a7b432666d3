"""The ``representations`` stage on a tiny study: untrained small CNNs on the synthetic dataset (1x16x16,
4 classes), a pruned and an int8_static variant of each, three seeds."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

from pipeline.compression.load import load_model
from pipeline.config import (
    ConfigError,
    RepresentationsParams,
)
from pipeline.data.prepare import Prepared
from pipeline.errors import InputCorrupt
from pipeline.representations.layers import capture
from pipeline.representations.similarity import linear_cka
from pipeline.sampling import sample_indices
from pipeline.stages import representations as stage

from . import fake_members
from .fake_members import MEMBERS, write_study

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
    """Prepared data, members of every config and seed, and a params file under one folder."""
    root = tmp_path_factory.mktemp("representations")
    write_study(root, tiny_data, SEEDS, CONFIGS)
    write_params(root / "params.yaml", REPRESENTATIONS)
    return root


def write_params(path: Path, cfg: RepresentationsParams, seeds: tuple[int, ...] = SEEDS) -> Path:
    return fake_members.write_params(path, CONFIGS, seeds, representations=cfg)


def run_stage(root: Path, config: str, out: Path, params: Path | None = None) -> Path:
    return fake_members.run_stage(stage, root, config, out, params)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def header(path: Path) -> list[str]:
    return path.read_text().splitlines()[0].split(",")


def summary_of(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "summary.json").read_text()))


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_dense_config_is_identical_to_itself_at_every_layer(study: Path, tmp_path: Path) -> None:
    out = run_stage(study, "dense", tmp_path / "dense")
    assert sorted(p.name for p in out.iterdir()) == [
        "activation_max.png",
        "floor.csv",
        "per_layer.csv",
        "summary.json",
    ]
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

    assert header(out / "per_layer.csv") == stage.PER_LAYER_COLUMNS
    rows = read_csv(out / "per_layer.csv")
    assert [(int(r["seed"]), r["layer"]) for r in rows] == [(s, n) for s in SEEDS for n in LAYERS]
    assert header(out / "floor.csv") == stage.FLOOR_COLUMNS
    floor = read_csv(out / "floor.csv")
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
    out = run_stage(study, "magnitude_50", tmp_path / "pruned")
    summary = summary_of(out)
    for entry in summary["layers"]:
        assert 0.0 < entry["linear_cka"] < 1.0 and 0.0 < entry["svcca"] < 1.0
    rows = read_csv(out / "per_layer.csv")
    assert all(0.0 < float(r["linear_cka"]) < 1.0 for r in rows)

    seed, layer = SEEDS[1], "net.head.1"
    index = sample_indices(len(tiny_data.test), SAMPLE, 0)
    images = torch.from_numpy(tiny_data.test.images[index]).float() / 255.0
    x, y = (
        capture(load_model(study / MEMBERS.format(config=c).format(seed=seed))[0], [layer], images)[layer]
        for c in ("dense", "magnitude_50")
    )
    (row,) = [r for r in rows if int(r["seed"]) == seed and r["layer"] == layer]
    assert float(row["linear_cka"]) == pytest.approx(linear_cka(x, y), abs=1e-10)
    assert int(row["units"]) == x.shape[1] == LAYERS[layer]
    seed_means = np.mean([float(r["linear_cka"]) for r in rows if r["layer"] == layer])
    (entry,) = [e for e in summary["layers"] if e["layer"] == layer]
    assert entry["linear_cka"] == pytest.approx(seed_means, rel=1e-12)

    # the noise floor is a property of the dense members: the same for every config
    assert (out / "floor.csv").read_bytes() == (
        run_stage(study, "dense", tmp_path / "d") / "floor.csv"
    ).read_bytes()
    act = summary["activation_max"]
    assert act["dense_on_dense"] != act["compressed_on_compressed"]
    assert all(len(act[k]) == 2 for k in ACTIVATION_KEYS[3:])


def test_quantized_members_are_compared_layer_by_layer(
    study: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pipeline.representations")
    summary = summary_of(run_stage(study, "int8_static", tmp_path / "int8"))
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
    assert list(first) == ["activation_max.png", "floor.csv", "per_layer.csv", "summary.json"]
    assert first == second


def test_no_units_writes_no_picture(study: Path, tmp_path: Path) -> None:
    params = write_params(tmp_path / "params.yaml", dataclasses.replace(REPRESENTATIONS, units=0))
    out = run_stage(study, "magnitude_50", tmp_path / "out", params)
    assert not (out / "activation_max.png").exists()
    assert summary_of(out)["activation_max"] is None


def test_units_may_be_every_channel_of_the_last_conv(study: Path) -> None:
    dense, member = (
        load_model(study / MEMBERS.format(config=c).format(seed=0))[0] for c in ("dense", "int8_static")
    )
    cfg = dataclasses.replace(REPRESENTATIONS, units=32, steps=1)
    act, (a, b) = stage._activation_max(dense, member, cfg, 0, (1, 16, 16))
    assert act["units"] == list(range(32)) and a.shape == b.shape == (32, 1, 16, 16)
    assert all(len(act[key]) == 32 for key in ACTIVATION_KEYS[3:])


def test_more_units_than_channels_is_refused_before_any_write(study: Path, tmp_path: Path) -> None:
    """No silent cut to the 32 channels of the last conv: the params would claim units never drawn."""
    params = write_params(tmp_path / "params.yaml", dataclasses.replace(REPRESENTATIONS, units=33))
    with pytest.raises(
        ConfigError, match=r"^representations\.units: 33 is more than the 32 channels.*most 32$"
    ):
        run_stage(study, "dense", tmp_path / "out", params)
    assert not (tmp_path / "out").exists()


def test_a_sample_larger_than_the_test_split_is_refused(study: Path, tmp_path: Path) -> None:
    params = write_params(tmp_path / "params.yaml", dataclasses.replace(REPRESENTATIONS, sample_size=257))
    with pytest.raises(ConfigError, match=r"^representations\.sample_size: 257 is more than the 256 test"):
        run_stage(study, "dense", tmp_path / "out", params)


def test_one_seed_has_no_floor(study: Path, tmp_path: Path) -> None:
    params = write_params(tmp_path / "params.yaml", REPRESENTATIONS, seeds=(1,))
    out = run_stage(study, "magnitude_50", tmp_path / "out", params)
    summary = summary_of(out)
    assert summary["members"] == 1
    assert all(e[f"floor_{k}"] is None for e in summary["layers"] for k in ("linear_cka", "svcca"))
    assert read_csv(out / "floor.csv") == [] and header(out / "floor.csv") == stage.FLOOR_COLUMNS


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
    params = write_params(tmp_path / "params.yaml", REPRESENTATIONS, seeds=(*SEEDS, 7))  # no seed 7 member
    with pytest.raises(InputCorrupt, match=r"seed_7.safetensors: missing"):
        run_stage(study, "magnitude_50", out, params)
    assert contents(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "params.yaml"]  # no partial folder left


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
            *("--config", config, "--data", str(tmp_path), "--members", "{seed}", "--dense", "{seed}"),
            *("--out", str(out)),
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
