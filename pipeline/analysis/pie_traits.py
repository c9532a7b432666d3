"""What PIEs are: each test example's traits under the dense population, and how PIEs differ in them.

Every trait is computed once, from the dense population's stored clean predictions (their logits are
out-of-sample: no member saw the test split), without running any model:

- **label issue**: confident learning (``cleanlab.filter.find_label_issues``) on the members' mean
  softmax probabilities flags examples whose given label is likely wrong; ``label_quality``
  (``cleanlab.rank.get_label_quality_scores``, self-confidence) ranks them, lowest first;
- **uncertainty**: the dense vote agreement (share of members voting the modal label), the margin
  between the two most probable classes of the mean probabilities, and their entropy (nats);
- **atypicality**: the distance of the example's mean logit vector to the centroid of its class's
  examples, in units of that class's median such distance (1: a typical member of its class). This is
  the dense members' output representation (the logits), not the penultimate layer: that would need
  the members run again over the test split, which this stage does not do.

Per config, PIEs are contrasted with the rest: the label-issue rate in each and their ratio (the
enrichment) with a bootstrap interval, and the mean of every other trait in each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

BOOTSTRAP = 1000


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in float64."""
    z = logits.astype(np.float64)
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


@dataclass(frozen=True)
class Traits:
    """Per test example (N,): ``label_issue`` bool, ``label_quality`` (low: likely mislabelled),
    ``agreement``, ``margin``, ``entropy``, ``atypicality``."""

    label_issue: np.ndarray
    label_quality: np.ndarray
    agreement: np.ndarray
    margin: np.ndarray
    entropy: np.ndarray
    atypicality: np.ndarray

    SCORES = ("agreement", "margin", "entropy", "atypicality")

    def row(self, i: int) -> dict[str, Any]:
        return {
            "label_issue": bool(self.label_issue[i]),
            "label_quality": float(self.label_quality[i]),
        } | {name: float(getattr(self, name)[i]) for name in self.SCORES}


def label_issues(labels: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(flagged (N,) bool, quality (N,)) from confident learning on out-of-sample probabilities. Classes
    absent from ``labels`` are dropped first (cleanlab needs every column seen)."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    present = np.unique(labels)
    remap = np.full(probs.shape[1], -1)
    remap[present] = np.arange(present.size)
    p = probs[:, present]
    p = p / p.sum(axis=1, keepdims=True)
    y = remap[labels]
    if present.size < 2:
        return np.zeros(labels.shape, bool), np.ones(labels.shape)
    flagged = find_label_issues(y, p, filter_by="prune_by_noise_rate")
    return np.asarray(flagged, bool), np.asarray(get_label_quality_scores(y, p), np.float64)


def uncertainty(probs: np.ndarray, votes: np.ndarray, members: int) -> tuple[np.ndarray, ...]:
    """(agreement, margin, entropy) of (N, K) mean probabilities and (N, K) vote counts."""
    agreement = votes.max(axis=1) / members
    top2 = np.sort(probs, axis=1)[:, -2:] if probs.shape[1] > 1 else np.hstack([np.zeros_like(probs), probs])
    margin = top2[:, 1] - top2[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.sum(np.where(probs > 0, probs * np.log(probs), 0.0), axis=1)
    return agreement, margin, entropy


def atypicality(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(N,) distance of each row of ``features`` to its class centroid over the class's median distance."""
    out = np.ones(labels.shape[0])
    for c in np.unique(labels):
        rows = labels == c
        dist = np.linalg.norm(features[rows] - features[rows].mean(axis=0), axis=1)
        median = float(np.median(dist))
        out[rows] = dist / median if median > 0 else 1.0
    return out


def dense_traits(logits: Iterable[np.ndarray], labels: np.ndarray, votes: np.ndarray) -> Traits:
    """The traits of every test example from the dense members' (N, K) logits, one member at a time
    (float64 sums of (N, K), never (M, N, K)), and their (N, K) votes."""
    probs = np.zeros(votes.shape, dtype=np.float64)
    mean_logits = np.zeros(votes.shape, dtype=np.float64)
    members = 0
    for member in logits:
        probs += softmax(member)
        mean_logits += member
        members += 1
    probs /= members
    mean_logits /= members
    flagged, quality = label_issues(labels, probs)
    agreement, margin, entropy = uncertainty(probs, votes, members)
    return Traits(flagged, quality, agreement, margin, entropy, atypicality(mean_logits, labels))


def _rate(mask: np.ndarray) -> float:
    return float(mask.mean()) if mask.size else float("nan")


def enrichment(
    issue: np.ndarray, pie_mask: np.ndarray, confidence: float = 0.95, seed: int = 0
) -> dict[str, float | None]:
    """Label-issue rate among PIEs and the rest, their ratio and its bootstrap interval (examples
    resampled within each group, ``BOOTSTRAP`` times); None where a group is empty or the rest has no
    label issue at all, and no interval when the PIEs have none (every resample would have none too)."""
    inside, outside = issue[pie_mask], issue[~pie_mask]
    rate_in, rate_out = _rate(inside), _rate(outside)
    result: dict[str, float | None] = {"label_issue_rate_pies": rate_in, "label_issue_rate_rest": rate_out}
    if not inside.size or not outside.size or rate_out == 0:
        return result | {"label_issue_enrichment": None, "enrichment_low": None, "enrichment_high": None}
    if rate_in == 0:  # every resample of a group without a label issue has none: no interval to give
        return result | {"label_issue_enrichment": 0.0, "enrichment_low": None, "enrichment_high": None}
    rng = np.random.default_rng(seed)
    boot_in = rng.binomial(inside.size, rate_in, BOOTSTRAP) / inside.size  # resampling a 0/1 group
    boot_out = rng.binomial(outside.size, rate_out, BOOTSTRAP) / outside.size
    with np.errstate(divide="ignore"):
        ratios = np.where(boot_out > 0, boot_in / np.where(boot_out > 0, boot_out, 1), np.inf)
    tail = (1 - confidence) / 2
    low, high = np.quantile(ratios, [tail, 1 - tail])
    return result | {
        "label_issue_enrichment": rate_in / rate_out,
        "enrichment_low": float(low),
        "enrichment_high": float(high),
    }


def contrast(traits: Traits, pie_mask: np.ndarray, confidence: float = 0.95) -> dict[str, Any]:
    """A config's summary entries: the label-issue enrichment and each score's mean in PIEs and the rest."""
    out: dict[str, Any] = dict(enrichment(traits.label_issue, pie_mask, confidence))
    for name in Traits.SCORES:
        values = getattr(traits, name)
        out[f"{name}_pies"] = float(values[pie_mask].mean()) if pie_mask.any() else None
        out[f"{name}_rest"] = float(values[~pie_mask].mean()) if (~pie_mask).any() else None
    return out
