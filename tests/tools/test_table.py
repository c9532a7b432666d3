"""The configs x metrics table (pipeline/tools/table.py) on made-up results."""

from __future__ import annotations

import pytest

from pipeline.report.metrics import HEADLINE
from pipeline.tools.table import configs_of, keys_of, render, rows, select_configs, select_metrics

RESULTS = {
    "main": {"dense": {"top1": 0.91264, "members": 5}, "magnitude_90": {"top1": 0.83742, "members": 5}},
    "exp-a": {"dense": {"top1": 0.91264, "members": 5}, "magnitude_90": {"top1": 0.86834, "members": None}},
}


def test_configs_are_globbed_in_the_study_order_and_a_miss_is_named() -> None:
    available = ["dense", "magnitude_30", "magnitude_90", "int8_static", "magnitude_70+int8_static"]
    assert select_configs(available, []) == available
    assert select_configs(available, ["*int8*", "dense"]) == [
        "dense",
        "int8_static",
        "magnitude_70+int8_static",
    ]
    with pytest.raises(ValueError, match=r"^no config matches 'fp32'; configs: dense, magnitude_30, "):
        select_configs(available, ["fp32"])


def test_metrics_default_to_the_headline_and_an_unknown_one_is_named() -> None:
    assert select_metrics(["members", *HEADLINE], []) == list(HEADLINE)
    assert select_metrics(["members", "top1"], ["members"]) == ["members"]
    with pytest.raises(ValueError, match=r"^unknown metric 'top_1'; metrics: members, top1$"):
        select_metrics(["members", "top1"], ["top_1"])


def test_rows_are_revision_by_config() -> None:
    assert configs_of(RESULTS) == ["dense", "magnitude_90"] and keys_of(RESULTS) == ["top1", "members"]
    assert rows(RESULTS, ["magnitude_90"], ["top1", "members"]) == [
        ["main", "magnitude_90", 0.83742, 5],
        ["exp-a", "magnitude_90", 0.86834, None],
    ]


def test_text_markdown_and_csv() -> None:
    table = rows(RESULTS, ["magnitude_90"], ["top1", "members"])
    header = ["revision", "config", "top1", "members"]
    assert render(header, table, "text").splitlines() == [
        "revision  config          top1  members",
        "main      magnitude_90  0.8374        5",
        "exp-a     magnitude_90  0.8683        -",
    ]
    assert render(header, table, "md", digits=3).splitlines() == [
        "| revision | config | top1 | members |",
        "|---|---|---:|---:|",
        "| main | magnitude_90 | 0.837 | 5 |",
        "| exp-a | magnitude_90 | 0.868 | - |",
    ]
    assert render(header, table, "csv").splitlines() == [
        "revision,config,top1,members",
        "main,magnitude_90,0.83742,5",
        "exp-a,magnitude_90,0.86834,",
    ]


def test_a_number_that_rounds_to_zero_has_no_sign() -> None:
    assert render(["r", "c", "x"], [["a", "b", -1e-9]], "text").splitlines()[1] == "a  b  0.0000"
