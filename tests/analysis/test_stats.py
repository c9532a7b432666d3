from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.analysis import stats


def test_recall_per_member_and_class() -> None:
    labels = np.array([0, 0, 1, 1, 2])
    pred = np.array([[0, 1, 1, 1, 0], [0, 0, 0, 1, 2]])
    recall = stats.per_class_recall(pred, labels, 4)
    np.testing.assert_allclose(recall[:, :3], [[0.5, 1.0, 0.0], [1.0, 0.5, 1.0]])
    assert np.isnan(recall[:, 3]).all()  # class 3 has no test examples


def welch_by_hand(a: list[float], b: list[float]) -> tuple[float, float]:
    """t and df of Welch's test written out: t = (ma - mb) / sqrt(va/na + vb/nb), Welch-Satterthwaite df."""
    na, nb = len(a), len(b)
    ma, mb = sum(a) / na, sum(b) / nb
    va = sum((x - ma) ** 2 for x in a) / (na - 1)
    vb = sum((x - mb) ** 2 for x in b) / (nb - 1)
    se2 = va / na + vb / nb
    df = se2**2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
    return (ma - mb) / math.sqrt(se2), df


def test_class_impact_is_welch_on_recall_minus_population_top1() -> None:
    # Two classes, dense population of 3 members, compressed of 4.
    dense = np.array([[0.90, 0.80], [0.92, 0.78], [0.94, 0.82]])
    comp = np.array([[0.70, 0.79], [0.74, 0.77], [0.72, 0.80], [0.70, 0.76]])
    dense_top1 = np.array([0.85, 0.85, 0.86])
    comp_top1 = np.array([0.75, 0.76, 0.76, 0.73])
    impact = stats.class_impact(dense, comp, dense_top1, comp_top1)
    md, mc = dense_top1.mean(), comp_top1.mean()
    for c in range(2):
        t, df = welch_by_hand(list(dense[:, c] - md), list(comp[:, c] - mc))
        from scipy.stats import t as student

        assert impact.t[c] == pytest.approx(t, rel=1e-12)
        assert impact.p[c] == pytest.approx(2 * student.sf(abs(t), df), rel=1e-10)
    # Class 0 lost 0.2 while top-1 lost ~0.1: t > 0 (dense first), significant; class 1 lost ~0.02: t < 0.
    assert impact.t[0] > 0 and impact.impacted[0]
    assert impact.t[1] < 0
    np.testing.assert_allclose(impact.change, comp.mean(0) - dense.mean(0))
    np.testing.assert_allclose(impact.normalized_change, (comp.mean(0) - mc) - (dense.mean(0) - md))
    # The interval brackets the change and comes from the raw recalls' Welch interval.
    assert (impact.change_low < impact.change).all() and (impact.change < impact.change_high).all()
    t_raw, df_raw = welch_by_hand(list(comp[:, 0]), list(dense[:, 0]))
    from scipy.stats import t as student

    half = student.ppf(0.975, df_raw) * abs(impact.change[0] / t_raw)
    assert impact.change_low[0] == pytest.approx(impact.change[0] - half, rel=1e-9)
    assert impact.change_high[0] == pytest.approx(impact.change[0] + half, rel=1e-9)


def test_identical_constant_recalls_are_not_tested() -> None:
    recall = np.ones((3, 1))
    impact = stats.class_impact(recall, recall, np.ones(3), np.ones(3))
    assert np.isnan(impact.t[0]) and np.isnan(impact.p[0]) and not impact.impacted[0]


def test_constant_recalls_in_large_populations_are_not_tested() -> None:
    """Subtracting a mean top-1 that is not exactly representable leaves rounding noise in the variance of
    constant recalls; that must not turn into t ~ 1e15 and p ~ 0."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        dense_top1 = 0.9 + rng.random(10) * 0.01
        comp_top1 = 0.8 + rng.random(10) * 0.01
        recall = np.ones((10, 1))
        impact = stats.class_impact(recall, recall, dense_top1, comp_top1)
        assert np.isnan(impact.p[0]) and not impact.impacted[0]


def test_a_single_member_cannot_be_tested() -> None:
    impact = stats.class_impact(np.array([[0.9]]), np.array([[0.5]]), np.array([0.9]), np.array([0.5]))
    assert np.isnan(impact.p).all() and not impact.impacted.any() and not impact.impacted_fdr.any()


def test_benjamini_hochberg_by_hand() -> None:
    # m = 4. Sorted p: 0.005, 0.01, 0.03, 0.04 -> p * m / rank: 0.02, 0.02, 0.04, 0.04; running min from
    # the top keeps them; back in the input order:
    q = stats.benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.005]))
    np.testing.assert_allclose(q, [0.02, 0.04, 0.04, 0.02])
    # A larger p later in sorted order caps the earlier ones: 0.02*3/2 = 0.03 > 0.025*3/3 = 0.025.
    np.testing.assert_allclose(
        stats.benjamini_hochberg(np.array([0.02, 0.025, 0.001])), [0.025, 0.025, 0.003]
    )


def test_benjamini_hochberg_skips_nan() -> None:
    q = stats.benjamini_hochberg(np.array([0.01, np.nan, 0.04]))
    assert np.isnan(q[1])
    np.testing.assert_allclose(q[[0, 2]], [0.02, 0.04])  # m = 2 tests, not 3


def test_churn_and_noise_floor() -> None:
    a = np.array([[0, 1, 2, 3], [0, 1, 2, 2]])
    b = np.array([[0, 1, 2, 0], [1, 0, 2, 2]])
    np.testing.assert_allclose(stats.churn(a, b), [0.25, 0.5])
    dense = np.array([[0, 0, 0, 0], [0, 0, 1, 1], [1, 1, 1, 1]])
    # pairs (0,1): 2/4, (0,2): 4/4, (1,2): 2/4
    np.testing.assert_allclose(stats.pairwise_churn(dense), [0.5, 1.0, 0.5])
    assert stats.pairwise_churn(dense[:1]).size == 0


def test_ece_on_a_known_case() -> None:
    # Bins of width 1/15. Two examples at 0.95 (bin 14), one right one wrong: |0.5 - 0.95| * 2/4.
    # Two at 0.6 (bin 8: (8/15, 9/15]), both right: |1 - 0.6| * 2/4.  ECE = 0.225 + 0.2 = 0.425.
    conf = np.array([0.95, 0.95, 0.6, 0.6])
    correct = np.array([True, False, True, True])
    assert stats.ece(conf, correct, 15) == pytest.approx(0.425)
    # Perfect calibration: confidence 1 and always right.
    assert stats.ece(np.ones(3), np.ones(3, bool), 15) == pytest.approx(0.0)


def test_bins_are_right_closed() -> None:
    edges = np.array([0.0, 1 / 15, 1 / 15 + 1e-9, 0.5, 1.0])
    np.testing.assert_array_equal(stats.bin_index(edges, 15), [0, 0, 1, 7, 14])


def test_class_ece_restricts_to_each_class() -> None:
    conf = np.array([0.95, 0.95, 0.6, 0.6])
    correct = np.array([True, False, True, True])
    labels = np.array([0, 0, 1, 1])
    per_class = stats.class_ece(conf, correct, labels, 3, 15)
    np.testing.assert_allclose(per_class[:2], [0.45, 0.4])
    assert np.isnan(per_class[2])


def test_flip_confidence_splits_flipped_and_stable() -> None:
    dense_p = np.array([[0.9, 0.8, 0.7]])
    comp_p = np.array([[0.5, 0.9, 0.7]])
    flips = stats.flip_confidence(dense_p, comp_p, np.array([[1, 2, 3]]), np.array([[0, 2, 3]]))
    assert flips.flipped == pytest.approx(-0.4) and flips.stable == pytest.approx(0.05)
    assert (flips.flipped_count, flips.stable_count) == (1, 2)


def test_confusion_is_the_member_mean_of_row_normalized_matrices() -> None:
    labels = np.array([0, 0, 1, 1])
    pred = np.array([[0, 1, 1, 1], [0, 0, 1, 0]])
    matrix = stats.confusion(pred, labels, 2)
    np.testing.assert_allclose(matrix, [[0.75, 0.25], [0.25, 0.75]])
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)


def test_largest_changes_are_off_diagonal_increases() -> None:
    dense = np.array([[0.9, 0.1, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    comp = np.array([[0.6, 0.3, 0.1], [0.0, 0.95, 0.05], [0.0, 0.0, 1.0]])
    changes = stats.largest_changes(dense, comp, 5)
    assert [(i, j) for i, j, _, _ in changes] == [(0, 1), (0, 2), (1, 2)]
    assert changes[0][2:] == (0.1, 0.3)


def test_mean_interval_is_the_t_interval() -> None:
    ci = stats.mean_interval(np.array([0.90, 0.92, 0.94]), 0.95)
    assert ci.mean == pytest.approx(0.92) and ci.std == pytest.approx(0.02)
    # t(0.975, 2) = 4.302653
    assert ci.high - ci.mean == pytest.approx(4.302653 * 0.02 / math.sqrt(3), rel=1e-6)
    single = stats.mean_interval(np.array([0.5]), 0.95)
    assert single.mean == 0.5 and np.isnan([single.std, single.low, single.high]).all()


def test_impacted_flags_of_stacked_resamples_equal_one_test_each() -> None:
    """impacted_flags on (R, M, K) resamples gives each resample's class_impact(...).impacted: the
    leave-one-out stability of the per-class verdict runs as one test."""
    from pipeline.analysis.power import leave_one_out

    rng = np.random.default_rng(3)
    dense = rng.normal(0.80, 0.02, (6, 40))
    comp = dense - rng.normal(0.01, 0.02, (6, 40)) * (np.arange(40) % 3 == 0)
    comp[:, 5] = dense[:, 5] = 1.0  # a flat class: undefined, never impacted
    top1_d, top1_c = dense.mean(axis=1), comp.mean(axis=1)
    idx = np.array(leave_one_out(6))
    flags = stats.impacted_flags(dense[idx], comp[idx], top1_d[idx], top1_c[idx])
    one_by_one = [stats.class_impact(dense[i], comp[i], top1_d[i], top1_c[i]).impacted for i in idx]
    np.testing.assert_array_equal(flags, np.array(one_by_one))
    assert flags.any() and not flags.all() and not flags[:, 5].any()
