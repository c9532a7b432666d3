"""The dvc plots tables on hand-made summaries."""

from __future__ import annotations

from typing import Any

from pipeline.report import plots


def summary() -> dict[str, Any]:
    def per(family: str, top1: list[Any], dense: list[Any]) -> dict[str, Any]:
        return {"family": family, "severities": [1, 3], "top1": top1, "dense_top1": dense}

    return {
        "clean": {"top1": 0.75, "dense_top1": 1.0},
        "per_corruption": {
            "rotate": per("geometric", [0.5, 0.25], [0.75, 0.5]),
            "jpeg": per("digital", [0.5, None], [1.0, 0.5]),
            "shot_noise": per("noise", [0.5, 0.5], [1.0, 1.0]),
            "gaussian_noise": per("noise", [0.25, 0.0], [0.5, 0.5]),
            "fog": per("weather", [None, None], [0.5, 0.5]),
        },
    }


def test_families_follow_the_suite_order_then_any_other() -> None:
    assert plots.families_of(summary()) == ["noise", "digital", "geometric", "weather"]


def test_robustness_rows_average_each_family_and_all_corruptions() -> None:
    assert plots.robustness_rows(summary()) == [
        {"severity": 0, "noise": 0.75, "digital": 0.75, "geometric": 0.75, "weather": 0.75, "mean": 0.75},
        {"severity": 1, "noise": 0.375, "digital": 0.5, "geometric": 0.5, "weather": None, "mean": 0.4375},
        {"severity": 3, "noise": 0.25, "digital": None, "geometric": 0.25, "weather": None, "mean": 0.25},
    ]


def test_dense_rows_come_from_the_dense_entries() -> None:
    rows = plots.robustness_rows(summary(), "dense_top1")
    assert rows[0]["mean"] == 1.0 and rows[1]["noise"] == 0.75 and rows[2]["weather"] == 0.5


def test_curves_put_the_clean_view_at_severity_zero() -> None:
    assert plots.severities_of(summary()) == [0, 1, 3]
    assert plots.curves(summary())["jpeg"] == [0.75, 0.5, None]


def test_cka_rows_number_the_layers() -> None:
    layers = [{"layer": "a", "linear_cka": 0.5, "floor_linear_cka": None}, {"layer": "b", "linear_cka": 1.0}]
    assert plots.cka_rows({"layers": layers}) == [
        {"layer_index": 0, "layer": "a", "linear_cka": 0.5, "floor_linear_cka": None},
        {"layer_index": 1, "layer": "b", "linear_cka": 1.0, "floor_linear_cka": None},
    ]


def test_stacked_puts_each_config_in_front_of_its_rows_in_order() -> None:
    tables = {"b": [{"x": 0, "y": 1.0}, {"x": 1, "y": None}], "a": [{"x": 0, "y": 0.5}], "c": []}
    assert plots.stacked(tables) == [
        {"config": "b", "x": 0, "y": 1.0},
        {"config": "b", "x": 1, "y": None},
        {"config": "a", "x": 0, "y": 0.5},
    ]
    assert list(plots.stacked(tables)[0]) == ["config", "x", "y"]  # the config column first
