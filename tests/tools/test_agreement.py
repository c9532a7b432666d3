"""Welch's interval of a difference of population means and the agreement of two runs
(pipeline/tools/agreement.py), on made-up numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pipeline.tools.agreement import SPREADS, Sample, agreement, sample_of, welch_interval

A = [0.8478, 0.8252, 0.8467, 0.8249, 0.8425]
B = [0.8401, 0.8330, 0.8512, 0.8287, 0.8390, 0.8441]


def sample(values: list[float]) -> Sample:
    return Sample(float(np.mean(values)), float(np.std(values, ddof=1)), len(values))


def numbers(values: list[float], metric: str = "top1") -> dict[str, float | int]:
    s = sample(values)
    return {metric: s.mean, SPREADS[metric]: s.std, "members": s.n}


def test_welch_interval_is_scipys_on_the_raw_members() -> None:
    expected = stats.ttest_ind(A, B, equal_var=False).confidence_interval(0.95)
    assert welch_interval(sample(A), sample(B), 0.95) == pytest.approx((expected.low, expected.high))


def test_without_spread_the_interval_is_the_difference() -> None:
    assert welch_interval(Sample(0.5, 0.0, 5), Sample(0.25, 0.0, 5), 0.95) == (0.25, 0.25)


def test_two_draws_of_one_population_agree() -> None:
    verdicts = agreement({"dense": numbers(A)}, {"dense": numbers(B)}, alpha=0.05)
    assert [(v.config, v.metric, v.agrees) for v in verdicts] == [("dense", "top1", True)]


def test_a_shifted_population_disagrees() -> None:
    shifted = [v - 0.03 for v in B]  # 3 points of top-1 against a std of about 0.01
    (verdict,) = agreement({"dense": numbers(A)}, {"dense": numbers(shifted)}, alpha=0.05)
    assert not verdict.agrees and verdict.low > 0 and verdict.difference == pytest.approx(0.02807)


def test_identical_runs_agree_even_without_spread_and_rounding_is_tolerated() -> None:
    ours = {"dense": {"churn": 0.0, "churn_std": 0.0, "members": 5}}
    assert all(v.agrees for v in agreement(ours, ours, alpha=0.05))
    theirs = {"dense": {"churn": 0.000001, "churn_std": 0.0, "members": 5}}  # one unit of the 6th decimal
    assert all(v.agrees for v in agreement(ours, theirs, alpha=0.05))
    theirs = {"dense": {"churn": 0.00001, "churn_std": 0.0, "members": 5}}
    assert not any(v.agrees for v in agreement(ours, theirs, alpha=0.05))


def test_the_intervals_are_corrected_for_the_number_of_tests() -> None:
    one = agreement({"a": numbers(A)}, {"a": numbers(B)}, alpha=0.05)[0]
    many = agreement({c: numbers(A) for c in "abcd"}, {c: numbers(B) for c in "abcd"}, alpha=0.05)
    assert len(many) == 4 and many[0].high - many[0].low > one.high - one.low
    expected = stats.ttest_ind(A, B, equal_var=False).confidence_interval(1 - 0.05 / 4)
    assert (many[0].low, many[0].high) == pytest.approx((expected.low, expected.high))


def test_numbers_without_a_spread_or_with_one_member_are_not_tested() -> None:
    assert sample_of({"top1": 0.9, "members": 5}, "top1") is None
    assert sample_of({"top1": 0.9, "top1_std": None, "members": 5}, "top1") is None
    assert sample_of({"top1": 0.9, "top1_std": 0.0, "members": 1}, "top1") is None
    assert agreement({"dense": {"top1": 0.9}}, {"dense": {"top1": 0.8}}, alpha=0.05) == []


def test_runs_of_other_studies_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"only ours: fp16; only theirs: int8_static\)"):
        agreement({"dense": {}, "fp16": {}}, {"dense": {}, "int8_static": {}}, alpha=0.05)
