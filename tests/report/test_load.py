"""Reading the stage outputs through their owners: CSV cells, missing files, config kinds and the study's
order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline.config import CompressionConfig, CompressParams, PruneSpec, QuantSpec
from pipeline.errors import InputCorrupt
from pipeline.io.stats import StatsFolder
from pipeline.numbers import finite
from pipeline.report import load

from ..conftest import tiny_params
from . import STAGES, write_study


def folders(root: Path) -> load.Folders:
    return load.Folders(**{name: root / name for name in STAGES})


def test_class_rows_keep_text_and_parse_numbers_booleans_and_empty_cells(tmp_path: Path) -> None:
    root = write_study(tmp_path)
    path = StatsFolder(root / "stats").per_class("dense")
    path.write_text(
        "config,class,class_name,change,p,impacted\ndense,0,007,-0.5,,True\ndense,1,cat,nan,1e-3,False\n"
    )
    rows = load.read_inputs(tiny_params(), folders(root)).per_class["dense"]
    assert rows[0] == {
        "config": "dense",
        "class": 0,
        "class_name": "007",
        "change": -0.5,
        "p": None,
        "impacted": True,
    }
    assert rows[1]["impacted"] is False and rows[1]["p"] == 0.001 and finite(rows[1]["change"]) is None


def test_a_missing_file_names_itself_and_the_stage_to_rerun(tmp_path: Path) -> None:
    root = write_study(tmp_path)
    StatsFolder(root / "stats").per_class("int8_static").unlink()
    with pytest.raises(InputCorrupt, match=r"per_class/int8_static\.csv: missing; run `dvc repro stats`"):
        load.read_inputs(tiny_params(), folders(root))


def test_only_dense_may_lack_its_robustness_summary(tmp_path: Path) -> None:
    root = write_study(tmp_path) / "robustness"
    assert load.read_robustness(root, "dense", required=False) is None
    assert load.read_robustness(root, "magnitude_50", required=False)["mce"] == 1.25
    with pytest.raises(InputCorrupt, match="missing; run `dvc repro robustness`"):
        load.read_robustness(root, "dense", required=True)


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        (CompressionConfig(), "dense"),
        (CompressionConfig(prune=PruneSpec()), "pruning"),
        (CompressionConfig(prune=PruneSpec(method="random")), "random control"),
        (CompressionConfig(quantize=QuantSpec(method="fp16")), "quantization"),
        (CompressionConfig(prune=PruneSpec(), quantize=QuantSpec()), "both"),
        (CompressionConfig(prune=PruneSpec(method="random"), quantize=QuantSpec()), "random control"),
    ],
)
def test_kind_of(config: CompressionConfig, kind: str) -> None:
    assert load.kind_of(config) == kind


def test_study_puts_dense_first_then_the_params_order() -> None:
    configs = {"b": CompressionConfig(prune=PruneSpec()), "dense": CompressionConfig()}
    configs["a"] = CompressionConfig(quantize=QuantSpec())
    params = dataclasses.replace(tiny_params(), compress=CompressParams(configs=configs))
    study = load.study_of(params)
    assert study.configs == ("dense", "b", "a") and study.compressed == ("b", "a")
    assert study.dataset == "synthetic" and study.seeds == (0, 1)


def test_member_mean_skips_missing_values() -> None:
    members: list[dict[str, float | None]] = [{"size_ratio": 0.5}, {"size_ratio": None}, {"size_ratio": 0.25}]
    assert load.member_mean(members, "size_ratio") == 0.375
    assert load.member_mean([{"x": None}], "x") is None
