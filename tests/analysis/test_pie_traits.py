"""The PIE traits on hand-built cases: a planted mislabelled example is flagged, an example far from its
class ranks atypical, uncertainty and enrichment by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.analysis.atypicality import class_normalized_distance
from pipeline.analysis.pie_traits import (
    contrast,
    dense_traits,
    enrichment,
    label_issues,
    mean_atypicality,
    mean_probabilities,
    uncertainty,
)


def confident(labels: np.ndarray, k: int, p: float = 0.9) -> np.ndarray:
    probs = np.full((labels.size, k), (1 - p) / (k - 1))
    probs[np.arange(labels.size), labels] = p
    return probs


def test_a_planted_mislabelled_example_is_flagged_and_ranked_first() -> None:
    labels = np.repeat(np.arange(3), 20)
    probs = confident(labels, 3)
    labels[7] = 2  # the members are sure example 7 is a 0; its given label says 2
    flagged, quality = label_issues(labels, probs)
    assert flagged[7] and flagged.sum() == 1
    assert int(np.argmin(quality)) == 7


def test_mean_atypicality_averages_the_members() -> None:
    np.testing.assert_allclose(mean_atypicality([np.array([1.0, 3.0]), np.array([2.0, 2.0])]), [1.5, 2.5])
    with pytest.raises(ValueError, match="no members"):
        mean_atypicality([])


def test_mean_probabilities_by_hand() -> None:
    """Two members, one example: softmax([0, ln 3]) = (1/4, 3/4) and softmax([ln 3, 0]) = (3/4, 1/4):
    the mean is (1/2, 1/2); rows are taken in chunks, so more rows than a chunk come out alike."""
    a = np.array([[0.0, np.log(3.0)]], np.float16)
    probs, members = mean_probabilities([a, a[:, ::-1]])
    assert members == 2 and probs.dtype == np.float32
    np.testing.assert_allclose(probs, [[0.5, 0.5]], atol=1e-3)  # float16 logits: ln 3 to 3 digits
    many = np.repeat(a, 10_000, axis=0)
    np.testing.assert_allclose(
        mean_probabilities([many])[0], np.repeat([[0.25, 0.75]], 10_000, axis=0), atol=1e-3
    )


def test_uncertainty_by_hand() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2]])
    votes = np.array([[5, 0, 0], [3, 2, 0]])
    agreement, margin, entropy = uncertainty(probs, votes, 5)
    np.testing.assert_allclose(agreement, [1.0, 0.6])
    np.testing.assert_allclose(margin, [0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(entropy[0], -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1)))


def test_enrichment_is_the_ratio_of_rates_with_an_interval_around_it() -> None:
    issue = np.zeros(1000, bool)
    pies = np.zeros(1000, bool)
    pies[:100] = True
    issue[:20] = True  # 20% of the 100 PIEs
    issue[100:118] = True  # 2% of the 900 others
    out = enrichment(issue, pies)
    assert out["label_issue_rate_pies"] == pytest.approx(0.2)
    assert out["label_issue_rate_rest"] == pytest.approx(0.02)
    assert out["label_issue_enrichment"] == pytest.approx(10.0)
    low, high = out["enrichment_low"], out["enrichment_high"]
    assert low is not None and high is not None and 3 < low < 10 < high < 25
    none = enrichment(np.zeros(10, bool), np.arange(10) < 3)
    assert none["label_issue_enrichment"] is None  # no label issue outside the PIEs: no ratio
    zero = enrichment(np.arange(10) == 9, np.arange(10) < 3)  # none among the PIEs, one in the rest
    assert zero["label_issue_enrichment"] == 0.0 and zero["enrichment_low"] is None


def test_dense_traits_stream_members_and_contrast_pies_with_the_rest() -> None:
    labels = np.repeat(np.arange(2), 10)
    logits = [np.log(confident(labels, 2, 0.95)), np.log(confident(labels, 2, 0.85))]
    features = [
        labels[:, None] * 3.0 + np.arange(20)[:, None] % 5,
        labels[:, None] - np.arange(20)[:, None] % 3,
    ]
    scores = [class_normalized_distance(f, labels) for f in features]  # what the atypicality stage stores
    votes = np.zeros((20, 2), int)
    votes[np.arange(20), labels] = 2
    traits = dense_traits(iter(logits), iter(scores), labels, votes)
    np.testing.assert_allclose(traits.agreement, 1.0)
    np.testing.assert_allclose(traits.margin, 0.8, atol=1e-6)  # mean probabilities 0.9 / 0.1
    np.testing.assert_allclose(traits.atypicality, (scores[0] + scores[1]) / 2)
    pies = np.arange(20) < 2
    summary = contrast(traits, pies)
    assert summary["agreement_pies"] == summary["agreement_rest"] == 1.0
    assert set(summary) >= {"label_issue_enrichment", "atypicality_pies", "entropy_rest", "margin_pies"}
