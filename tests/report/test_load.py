"""Reading the stage outputs: CSV cells, config kinds and the study's order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline.config import CompressionConfig, CompressParams, ConfigError, PruneSpec, QuantSpec
from pipeline.report import load

from ..conftest import tiny_params


def test_rows_parse_numbers_booleans_and_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "config,class,class_name,change,p,impacted\nfp16,0,007,-0.5,,True\nfp16,1,cat,nan,1e-3,False\n"
    )
    rows = load.read_rows(path)
    assert rows[0] == {
        "config": "fp16",
        "class": 0,
        "class_name": "007",
        "change": -0.5,
        "p": None,
        "impacted": True,
    }
    assert rows[1]["impacted"] is False and rows[1]["p"] == 0.001 and load.finite(rows[1]["change"]) is None


def test_a_missing_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nothing\.csv: file not found"):
        load.read_rows(tmp_path / "nothing.csv")


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
