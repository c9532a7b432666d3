"""What PIEs are: each test example's traits under the dense population, and how PIEs differ in them.

Every trait is computed once per dense population, in the ``traits`` stage, from what the dense members
already stored: their clean logits (out-of-sample: no member saw the test split) and, from the
``atypicality`` stage (the one model run this needs), each member's atypicality in its penultimate
representation:

- **label issue**: confident learning (``cleanlab.filter.find_label_issues``, ``prune_by_noise_rate``)
  on the members' mean softmax probabilities flags examples whose given label is likely wrong;
  ``label_quality`` (``cleanlab.rank.get_label_quality_scores``, self-confidence) ranks them, lowest
  first;
- **uncertainty**: the dense vote agreement (share of members voting the modal label), the margin
  between the two most probable classes of the mean probabilities, and their entropy (nats);
- **atypicality**: in each member's penultimate representation, the example's distance to the centroid
  of its class's examples in units of that class's median such distance (1: a typical member of its
  class), averaged over the members (their representations are not aligned, so each is measured in
  its own).

Per config, PIEs are contrasted with the rest: the label-issue rate in each and their ratio (the
enrichment) with a bootstrap interval, and the mean of every other trait in each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

BOOTSTRAP = 1000


CHUNK = 1024  # rows of logits turned into probabilities at a time: the float32 temporaries stay in cache
THREADS = 2  # chunks run on this many threads (NumPy's ufuncs release the GIL)


def _add_softmax(member: np.ndarray, total: np.ndarray, start: int) -> None:
    """``total[rows] += softmax(member[rows])`` in float32, for the ``CHUNK`` rows from ``start``."""
    z = member[start : start + CHUNK].astype(np.float32)
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z *= 1 / z.sum(axis=1, keepdims=True)
    total[start : start + CHUNK] += z


def mean_probabilities(logits: Iterable[np.ndarray]) -> tuple[np.ndarray, int]:
    """((N, K) float32 mean softmax of the members' (N, K) logits, the number of members), one member
    and ``CHUNK`` rows at a time (never (M, N, K)), the chunks on ``THREADS`` threads (each its own rows
    of the sum, so the result does not depend on their order)."""
    from concurrent.futures import ThreadPoolExecutor

    total: np.ndarray | None = None
    members = 0
    with ThreadPoolExecutor(THREADS) as pool:
        for member in logits:
            if total is None:
                total = np.zeros(member.shape, np.float32)
            elif member.shape != total.shape:
                raise ValueError(f"members' logits differ in shape: {member.shape} and {total.shape}")
            starts = range(0, member.shape[0], CHUNK)
            list(pool.map(_add_softmax, [member] * len(starts), [total] * len(starts), starts))
            members += 1
    if total is None:
        raise ValueError("no members' logits")
    total /= members
    return total, members


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
    absent from ``labels`` are dropped first (cleanlab needs every column seen) and the rows renormalized."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    present = np.unique(labels)
    if present.size < 2:
        return np.zeros(labels.shape, bool), np.ones(labels.shape)
    y, p = labels, probs
    if present.size < probs.shape[1]:
        remap = np.full(probs.shape[1], -1)
        remap[present] = np.arange(present.size)
        p = probs[:, present]
        p = p / p.sum(axis=1, keepdims=True)
        y = remap[labels]
    flagged = find_label_issues(y, p, filter_by="prune_by_noise_rate")
    return np.asarray(flagged, bool), np.asarray(get_label_quality_scores(y, p), np.float64)


def uncertainty(probs: np.ndarray, votes: np.ndarray, members: int) -> tuple[np.ndarray, ...]:
    """(agreement, margin, entropy) of (N, K) mean probabilities and (N, K) vote counts."""
    from scipy.special import entr

    agreement = votes.max(axis=1) / members
    k = probs.shape[1]
    top2 = np.partition(probs, k - 2, axis=1)[:, -2:] if k > 1 else np.hstack([np.zeros_like(probs), probs])
    margin = (top2[:, 1] - top2[:, 0]).astype(np.float64)
    entropy = entr(probs).sum(axis=1, dtype=np.float64)  # entr(p) = -p log p, 0 at p = 0
    return agreement, margin, entropy


def mean_atypicality(members: Iterable[np.ndarray]) -> np.ndarray:
    """(N,) the mean over the members of their (N,) atypicality
    (:func:`pipeline.analysis.atypicality.class_normalized_distance`), each measured in the member's own
    representation (they are not aligned)."""
    total, count = None, 0
    for member in members:
        total = member.astype(np.float64) if total is None else total + member
        count += 1
    if total is None:
        raise ValueError("no members' atypicality")
    return total / count


def dense_traits(
    logits: Iterable[np.ndarray], atypicality: Iterable[np.ndarray], labels: np.ndarray, votes: np.ndarray
) -> Traits:
    """The traits of every test example from the dense members' (N, K) logits and (N,) atypicality in
    their penultimate representations, one member at a time, and their (N, K) votes."""
    probs, members = mean_probabilities(logits)
    flagged, quality = label_issues(labels, probs)
    agreement, margin, entropy = uncertainty(probs, votes, members)
    return Traits(flagged, quality, agreement, margin, entropy, mean_atypicality(atypicality))


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


def log_line(traits: Traits, members: int, layer: str) -> str:
    """The traits stage's closing line: label issues, mean agreement and atypicality."""
    from pipeline.numbers import fmt

    return (
        f"{traits.label_issue.size} test examples, {members} dense members: {int(traits.label_issue.sum())} "
        f"label issues ({fmt(float(traits.label_issue.mean()))}), mean agreement "
        f"{fmt(float(traits.agreement.mean()))}, mean atypicality {fmt(float(traits.atypicality.mean()))} "
        f"(in the input of {layer})"
    )
