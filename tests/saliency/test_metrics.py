from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pipeline.saliency.metrics import average_ranks, compare, mad, signed, spearman, top_overlap


def test_mad_and_signed_by_hand() -> None:
    a = np.array([[[0.0, 1.0], [0.5, 0.5]]])
    b = np.array([[[0.5, 0.5], [0.5, 1.0]]])
    assert mad(a, b)[0] == pytest.approx((0.5 + 0.5 + 0 + 0.5) / 4)
    assert signed(a, b)[0] == pytest.approx((0.5 - 0.5 + 0 + 0.5) / 4)  # b - a: more saliency in b
    assert signed(b, a)[0] == pytest.approx(-signed(a, b)[0])


def test_spearman_matches_scipy_per_image() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((3, 5, 5))
    b = a + rng.normal(0, 0.3, a.shape)
    b[2] = np.round(b[2], 1)  # ties
    got = spearman(a, b)
    for n in range(3):
        assert got[n] == pytest.approx(stats.spearmanr(a[n].ravel(), b[n].ravel()).statistic)
    assert np.isnan(spearman(np.zeros((1, 2, 2)), a[:1, :2, :2])[0])


def test_average_ranks_equal_scipy_rankdata_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    x = np.round(rng.random((6, 50)), 1)  # many ties
    x[0] = 0.0  # a constant row: every pixel gets the middle rank
    x[1] = np.arange(50)[::-1]
    assert np.array_equal(average_ranks(x), stats.rankdata(x, axis=1))
    assert average_ranks(np.array([[3.0, 1.0, 3.0, 2.0]])).tolist() == [[3.5, 1.0, 3.5, 2.0]]
    with_nan = np.array([[np.nan, 1.0, np.nan, 0.5], [1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_array_equal(average_ranks(with_nan), stats.rankdata(with_nan, axis=1))


def test_top_overlap_by_hand() -> None:
    # 20 pixels: the top 10% are 2 pixels.
    a = np.arange(20, dtype=float).reshape(1, 4, 5)  # top: pixels 19, 18
    b = a.copy()
    assert top_overlap(a, b)[0] == 1.0
    b[0, 3, 4] = -1.0  # pixel 19 drops out of b's top; b's top is now 18, 17
    assert top_overlap(a, b)[0] == 0.5
    assert top_overlap(a, -a)[0] == 0.0


def test_compare_checks_shapes() -> None:
    out = compare(np.ones((2, 3, 3)), np.ones((2, 3, 3)))
    assert set(out) == {"mad", "signed", "spearman", "top_overlap"} and out["mad"].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="differ in shape"):
        compare(np.ones((2, 3, 3)), np.ones((2, 3, 4)))
