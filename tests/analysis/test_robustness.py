from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.analysis import robustness as rob
from pipeline.analysis.population import Population


def population(name: str, labels: list[int], pred: list[list[int]]) -> Population:
    p = np.array(pred)
    lab = np.array(labels)
    return Population(
        name=name,
        seeds=tuple(range(p.shape[0])),
        labels=lab,
        pred=p,
        p_pred=np.full(p.shape, 0.9),
        top5_hit=np.ones(p.shape, dtype=bool),
        example_ids=np.arange(lab.size),
    )


def test_compare_view_by_hand() -> None:
    labels = [0, 0, 1, 1]
    dense = population("dense", labels, [[0, 0, 1, 1], [0, 1, 1, 1], [0, 0, 1, 0]])
    comp = population("c", labels, [[0, 1, 1, 0], [0, 1, 1, 0], [1, 1, 1, 0]])
    r = rob.compare_view(dense, comp, 2)
    np.testing.assert_allclose(r.dense_top1, [1.0, 0.75, 0.75])
    np.testing.assert_allclose(r.top1, [0.5, 0.5, 0.25])
    # Modal labels: dense 0,0,1,1; compressed 0,1,1,0 -> examples 1 and 3 are PIEs.
    assert r.pie_rate == 0.5
    # Churn per seed: 2/4, 1/4, 2/4.
    assert math.isclose(r.churn, 1.25 / 3)
    # Recall of class 0: dense (1 + 0.5 + 1) / 3, compressed (0.5 + 0.5 + 0) / 3; class 1: dense
    # (1 + 1 + 0.5) / 3, compressed 0.5 in every member.
    np.testing.assert_allclose(r.dense_recall, [2.5 / 3, 2.5 / 3])
    np.testing.assert_allclose(r.recall, [1 / 3, 0.5])
    assert math.isclose(r.error, 1 - 1.25 / 3) and math.isclose(r.dense_error, 1 - 2.5 / 3)


def view(top1: float, dense_top1: float) -> rob.ViewResult:
    return rob.ViewResult(np.array([top1]), np.array([dense_top1]), 0.0, 0.0, np.zeros(2), np.zeros(2))


def test_corruption_error_is_the_ratio_of_summed_errors() -> None:
    views = [view(0.9, 0.95), view(0.6, 0.8)]  # errors 0.1 + 0.4 against 0.05 + 0.2
    assert math.isclose(rob.corruption_error(views), 0.5 / 0.25)


def test_relative_corruption_error_subtracts_each_clean_error() -> None:
    views = [view(0.9, 0.95), view(0.6, 0.8)]
    clean = view(0.95, 0.97)  # clean errors 0.05 and 0.03
    expected = ((0.1 - 0.05) + (0.4 - 0.05)) / ((0.05 - 0.03) + (0.2 - 0.03))
    assert math.isclose(rob.relative_corruption_error(views, clean), expected)


def test_undefined_ratios_are_nan_and_skipped_in_means() -> None:
    assert math.isnan(rob.corruption_error([view(0.9, 1.0)]))  # the dense population makes no error
    assert math.isnan(rob.ratio(1.0, 0.0)) and math.isnan(rob.ratio(1.0, -0.1))
    assert rob.mean_finite([1.0, float("nan"), 3.0]) == 2.0
    assert math.isnan(rob.mean_finite([float("nan")]))


def test_view_names_parse_back_to_corruption_and_severity() -> None:
    from pipeline.robustness import parse_view, view_name

    assert parse_view(view_name("gaussian_noise", 3)) == ("gaussian_noise", 3)
    for bad in ("clean", "rotate", "rotate-x", "not_a_corruption-1"):
        with pytest.raises(ValueError, match="is not a corrupted view's name"):
            parse_view(bad)
