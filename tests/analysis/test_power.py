"""Detectable change, members needed and leave-one-out stability, against hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from pipeline.analysis.power import (
    detectable_change,
    detectable_changes,
    detectable_changes_sd,
    jaccard,
    leave_one_out,
    members_needed,
    welch_df,
)


def test_two_groups_of_five_detect_two_standard_deviations() -> None:
    # The textbook case (equal variances, n = 5 each, two-sided alpha 0.05, power 0.8): Cohen's d = 2.024,
    # from the noncentral t with 8 degrees of freedom and noncentrality d * sqrt(5 / 2).
    sd = 0.0055
    delta = detectable_change(sd, 5, sd, 5)
    assert delta / sd == pytest.approx(2.0244, abs=5e-4)
    nc = delta / math.sqrt(2 * sd**2 / 5)
    crit = stats.t.ppf(0.975, 8)
    assert stats.nct.sf(crit, 8, nc) + stats.nct.cdf(-crit, 8, nc) == pytest.approx(0.8, abs=1e-9)


def test_large_populations_approach_the_normal_formula() -> None:
    sd, n = 0.01, 5000
    se = math.sqrt(2 * sd**2 / n)
    normal = se * (stats.norm.ppf(0.975) + stats.norm.ppf(0.8))  # 2.8016 standard errors
    assert detectable_change(sd, n, sd, n) == pytest.approx(normal, rel=2e-3)


def test_welch_degrees_of_freedom_by_hand() -> None:
    # var 4/5 and 1/5: (0.8 + 0.2)^2 / (0.64/4 + 0.04/4) = 1 / 0.17
    assert float(welch_df(np.array(4.0), 5, np.array(1.0), 5)) == pytest.approx(1 / 0.17)


def test_undefined_cases_are_nan() -> None:
    assert math.isnan(detectable_change(0.0, 5, 0.0, 5))  # no spread anywhere: no test
    assert math.isnan(detectable_change(0.01, 1, 0.01, 5))
    assert np.isnan(detectable_changes(np.ones((1, 3)), np.ones((4, 3)))).all()


def test_columns_are_independent() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    each = [detectable_change(a[:, c].std(ddof=1), 6, b[:, c].std(ddof=1), 6) for c in range(4)]
    np.testing.assert_allclose(detectable_changes(a, b), each, rtol=1e-12)


def test_members_needed_is_the_first_size_that_detects_the_change() -> None:
    n = members_needed(0.01, 0.01, 0.01)
    assert n == 17
    assert detectable_change(0.01, n, 0.01, n) <= 0.01 < detectable_change(0.01, n - 1, 0.01, n - 1)
    assert members_needed(0.0, 0.0, 0.01) is None
    assert members_needed(0.5, 0.5, 1e-6) is None  # beyond MAX_MEMBERS


@pytest.mark.parametrize(
    ("sd_a", "sd_b", "change"),
    [(0.01, 0.01, 0.01), (0.05, 0.001, 0.01), (0.002, 0.03, 0.004), (0.01, 0.02, 0.2)],
)
def test_members_needed_equals_a_scan_of_every_size(sd_a: float, sd_b: float, change: float) -> None:
    """The windowed search returns what checking n = 2, 3, ... one at a time returns (the last case
    needs only 2 members, below the normal-theory start)."""
    scan = next(n for n in range(2, 2000) if detectable_change(sd_a, n, sd_b, n) <= change)
    assert members_needed(sd_a, sd_b, change) == scan


@pytest.mark.parametrize(
    ("alpha", "power", "change", "scan"),
    [(0.2, 0.3, 0.005, 376), (0.2, 0.25, 0.004, 286), (0.5, 0.55, 0.003, 546), (0.3, 0.35, 0.002, 1071)],
)
def test_members_needed_below_the_normal_start(alpha: float, power: float, change: float, scan: int) -> None:
    """At a power near alpha the test's other tail adds power, so the answer lies below where the normal
    formula starts the search (a linear scan of every n found these; the search must not stop at its
    start)."""
    n = members_needed(0.1, 0.1, change, alpha, power)
    assert n == scan
    assert detectable_change(0.1, n, 0.1, n, alpha, power) <= change
    assert detectable_change(0.1, n - 1, 0.1, n - 1, alpha, power) > change


def test_extreme_targets_are_answered_not_crashed() -> None:
    """A change too small for any population gives None (not an overflow); a power the test has with
    no change at all (at most alpha) needs no change and the fewest members."""
    assert members_needed(0.1, 0.1, 1e-200) is None
    assert detectable_change(0.01, 5, 0.01, 5, alpha=0.05, power=0.05) == 0.0
    assert members_needed(0.1, 0.1, 0.01, alpha=0.05, power=0.04) == 2


def test_detectable_changes_broadcast_over_sizes() -> None:
    """Sizes as arrays give, element by element, what scalar sizes give."""
    sizes = np.array([2, 3, 10, 40])
    many = detectable_changes_sd(np.full(4, 0.02), sizes, np.full(4, 0.01), sizes)
    one = [detectable_change(0.02, int(n), 0.01, int(n)) for n in sizes]
    np.testing.assert_allclose(many, one, rtol=1e-12)


def test_leave_one_out_enumerates_each_member_once() -> None:
    assert [list(i) for i in leave_one_out(3)] == [[1, 2], [0, 2], [0, 1]]
    assert leave_one_out(2) == []


def test_jaccard() -> None:
    a, b = np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool)
    assert jaccard(a, b) == pytest.approx(1 / 3)
    assert jaccard(np.zeros(3, bool), np.zeros(3, bool)) == 1.0
