from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis.subgroups import select_attributes, subgroup_rows
from pipeline.config import ConfigError
from pipeline.io.stats import SUBGROUP_COLUMNS as COLUMNS


def test_groups_by_hand() -> None:
    # 4 examples; attribute Male = [1, 1, 0, 0], Young = [1, 0, 1, 0]. The PIEs are examples 0 and 1.
    attributes = np.array([[1, 1], [1, 0], [0, 1], [0, 0]])
    pie = np.array([True, True, False, False])
    dense = np.array([[True, True, True, False], [True, True, True, True]])
    comp = np.array([[False, False, True, False], [False, True, True, True]])
    flips = np.array([[True, True, False, False], [True, False, False, False]])
    rows = subgroup_rows("cfg", attributes, ["Male", "Young"], pie, dense, comp, flips)
    assert [(r["attribute"], r["value"]) for r in rows] == [
        ("Male", 1),
        ("Male", 0),
        ("Young", 1),
        ("Young", 0),
    ]
    assert all(list(r) == COLUMNS for r in rows)
    male = rows[0]
    assert male["examples"] == 2 and male["test_share"] == 0.5
    assert male["pies"] == 2 and male["pie_rate"] == 1.0 and male["pie_share"] == 1.0
    assert male["pie_over_index"] == 2.0  # all the PIEs in half the test set
    assert male["dense_top1"] == 1.0 and male["compressed_top1"] == pytest.approx(0.25)
    assert male["top1_drop"] == pytest.approx(0.75)
    assert male["churn"] == pytest.approx(0.75)  # member 0: 2/2, member 1: 1/2
    female = rows[1]
    assert female["pies"] == 0 and female["pie_over_index"] == 0.0
    assert female["dense_top1"] == pytest.approx(0.75) and female["churn"] == 0.0
    young = rows[2]
    assert young["pies"] == 1 and young["pie_over_index"] == 1.0


def test_no_pies_leaves_shares_undefined() -> None:
    rows = subgroup_rows(
        "cfg",
        np.array([[1], [0]]),
        ["Male"],
        np.zeros(2, bool),
        np.ones((1, 2), bool),
        np.ones((1, 2), bool),
        np.zeros((1, 2), bool),
    )
    assert np.isnan(rows[0]["pie_share"]) and np.isnan(rows[0]["pie_over_index"])


def test_select_attributes() -> None:
    assert select_attributes(["Male", "Young"], [], "k") == [0, 1]
    assert select_attributes(["Male", "Young"], ["Young"], "k") == [1]
    with pytest.raises(
        ConfigError, match=r"stats.subgroup_attributes: unknown attribute 'Old'; allowed: Male, Young"
    ):
        select_attributes(["Male", "Young"], ["Old"], "stats.subgroup_attributes")
    with pytest.raises(ConfigError, match=r"allowed: none"):
        select_attributes([], ["Male"], "stats.subgroup_attributes")
