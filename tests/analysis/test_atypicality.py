"""Atypicality on hand-built cases: an example far from its class ranks atypical; distances by hand; each
member measured in its own space."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis.atypicality import class_normalized_distance


def test_an_example_far_from_its_class_ranks_atypical() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 50)
    features = rng.normal(size=(100, 4)) * 0.1 + labels[:, None] * 5.0
    features[3] += 3.0  # far from class 0's cloud
    scores = class_normalized_distance(features, labels)
    assert int(np.argmax(scores)) == 3 and scores[3] > 10
    assert np.median(scores[labels == 1]) == pytest.approx(1.0)


def test_class_normalized_distance_by_hand() -> None:
    """Class 0 at 0, 1, 2, 5 on a line: centroid 2, distances 2, 1, 0, 3, median 1.5; class 1 is two
    points at (0, 3) and (4, 0): centroid (2, 1.5), both 2.5 away, median 2.5; class 2 a single point
    (its own centroid: distance 0, median 0, reported as 1)."""
    features = np.array([[0, 0], [1, 0], [2, 0], [5, 0], [0, 3], [4, 0], [7, 7]], np.float16)
    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    np.testing.assert_allclose(
        class_normalized_distance(features, labels), [2 / 1.5, 1 / 1.5, 0.0, 3 / 1.5, 1.0, 1.0, 1.0]
    )


def test_atypicality_measures_each_member_in_its_own_space() -> None:
    """Members' representations are not aligned: a member whose space is rotated and scaled gives the
    same distances in units of the class median."""
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(3), 30)
    first = rng.normal(size=(90, 3)) + labels[:, None] * 4.0
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    second = 7.0 * first @ rotation
    one = class_normalized_distance(first, labels)
    np.testing.assert_allclose(class_normalized_distance(second, labels), one, rtol=1e-4)
