"""Statistics of one compressed population against the dense population (SPEC section 7).

Every function works on whole arrays (members x examples, members x classes): no per-example loop, so the
same code serves 10,000 Fashion-MNIST images and 50,000 ImageNet images with 1,000 classes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from pipeline.analysis.floor import seed_pairs

# ------------------------------------------------------------------------------------------- accuracy


@dataclass(frozen=True)
class Interval:
    """Mean of the members' values, their sample std and the t-interval of the mean."""

    mean: float
    std: float
    low: float
    high: float

    def as_dict(self, prefix: str) -> dict[str, float]:
        return {
            prefix: self.mean,
            f"{prefix}_std": self.std,
            f"{prefix}_low": self.low,
            f"{prefix}_high": self.high,
        }


def mean_interval(values: np.ndarray, confidence: float) -> Interval:
    """Mean, sample std (ddof 1) and Student-t ``confidence`` interval of the mean; for a single value
    the std and the interval are undefined (NaN)."""
    from scipy import stats

    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return Interval(mean, float("nan"), float("nan"), float("nan"))
    std = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, values.size - 1)) * std / np.sqrt(values.size)
    return Interval(mean, std, mean - half, mean + half)


def class_counts(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(K,) test examples per class."""
    return np.bincount(labels, minlength=num_classes)


def per_class_recall(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(M, K) recall of each member on each class: the fraction of class-c examples predicted c.

    NaN for a class with no test examples.
    """
    members = pred.shape[0]
    hits = pred == labels[None, :]
    index = np.arange(members)[:, None] * num_classes + labels[None, :]
    correct = np.bincount(index.ravel(), weights=hits.ravel(), minlength=members * num_classes)
    counts = class_counts(labels, num_classes).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return correct.reshape(members, num_classes) / counts[None, :]


# ------------------------------------------------------------------------------------ per-class impact


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q); NaN entries stay NaN and are not counted as tests."""
    from scipy import stats

    q = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        q[finite] = stats.false_discovery_control(p[finite], method="bh")
    return q


@dataclass(frozen=True)
class ClassImpact:
    """Per-class impact of compression, each field (K,), in class order.

    ``change`` is the compressed minus the dense mean recall, with its Welch ``confidence`` interval
    ``[change_low, change_high]``; ``normalized_change`` is the same after subtracting each population's
    mean top-1, so it is positive for a class that fared better than top-1 did.  ``t`` and ``p`` are
    Welch's two-sided test of the normalized recalls with the dense population passed first, so t > 0
    means the class lost more than top-1 did (Hooker et al.); ``q`` is the BH-adjusted p.
    """

    dense_recall: np.ndarray
    compressed_recall: np.ndarray
    change: np.ndarray
    change_low: np.ndarray
    change_high: np.ndarray
    normalized_change: np.ndarray
    t: np.ndarray
    p: np.ndarray
    q: np.ndarray
    impacted: np.ndarray
    impacted_fdr: np.ndarray


def class_impact(
    dense_recall: np.ndarray,
    compressed_recall: np.ndarray,
    dense_top1: np.ndarray,
    compressed_top1: np.ndarray,
    alpha: float = 0.05,
    fdr: float = 0.05,
    confidence: float = 0.95,
) -> ClassImpact:
    """Hooker et al.'s per-class test on (M_d, K) and (M_c, K) member recalls.

    Each population's recalls are normalized by subtracting that population's mean top-1 (a constant per
    population).  ``scipy.stats.ttest_ind(dense, compressed, equal_var=False)`` per class; impacted means
    p <= alpha (and q <= fdr for ``impacted_fdr``).  A class whose test is undefined (fewer than two
    members in a population, or the same recall in every member of both populations) has NaN t and p
    and is never impacted.
    """
    from scipy import stats

    t, p, undefined = _normalized_test(dense_recall, compressed_recall, dense_top1, compressed_top1)
    dense_norm = dense_recall - float(np.mean(dense_top1))
    comp_norm = compressed_recall - float(np.mean(compressed_top1))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        raw = stats.ttest_ind(dense_recall, compressed_recall, axis=0, equal_var=False)
        ci = raw.confidence_interval(confidence_level=confidence)  # of mean(dense) - mean(compressed)
        dense_mean = dense_recall.mean(axis=0)
        comp_mean = compressed_recall.mean(axis=0)
    low, high = -np.asarray(ci.high, dtype=np.float64), -np.asarray(ci.low, dtype=np.float64)
    low[undefined], high[undefined] = np.nan, np.nan
    q = benjamini_hochberg(p)
    with np.errstate(invalid="ignore"):
        impacted = p <= alpha
        impacted_fdr = q <= fdr
    return ClassImpact(
        dense_recall=dense_mean,
        compressed_recall=comp_mean,
        change=comp_mean - dense_mean,
        change_low=low,
        change_high=high,
        normalized_change=comp_norm.mean(axis=0) - dense_norm.mean(axis=0),
        t=t,
        p=p,
        q=q,
        impacted=impacted,
        impacted_fdr=impacted_fdr,
    )


def _normalized_test(
    dense_recall: np.ndarray,
    compressed_recall: np.ndarray,
    dense_top1: np.ndarray,
    compressed_top1: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, p, undefined) of :func:`class_impact`'s test, over the members axis (the second last): recalls
    (..., M, K) and top-1s (..., M), so that stacked resamples (R, M, K) are tested at once."""
    from scipy import stats

    dense_norm = dense_recall - np.mean(dense_top1, axis=-1)[..., None, None]
    comp_norm = compressed_recall - np.mean(compressed_top1, axis=-1)[..., None, None]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # Identical recalls in every member (e.g. 1.0 everywhere) make scipy warn and return NaN.
        warnings.simplefilter("ignore", RuntimeWarning)
        test = stats.ttest_ind(dense_norm, comp_norm, axis=-2, equal_var=False)
    t = np.array(test.statistic, dtype=np.float64)
    p = np.array(test.pvalue, dtype=np.float64)
    # Constant recalls have no spread, but subtracting the mean top-1 leaves rounding noise (~1e-33) in
    # the variance, which would give a huge t and p ~ 0: decide on the raw recalls instead.
    flat = (np.ptp(dense_recall, axis=-2) == 0) & (np.ptp(compressed_recall, axis=-2) == 0)
    undefined = ~np.isfinite(t) | flat
    t[undefined], p[undefined] = np.nan, np.nan
    return t, p, undefined


def impacted_flags(
    dense_recall: np.ndarray,
    compressed_recall: np.ndarray,
    dense_top1: np.ndarray,
    compressed_top1: np.ndarray,
    alpha: float = 0.05,
) -> np.ndarray:
    """:func:`class_impact`'s ``impacted`` of many resamples at once: recalls (R, M, K) and top-1s
    (R, M) give (R, K) bool."""
    p = _normalized_test(dense_recall, compressed_recall, dense_top1, compressed_top1)[1]
    with np.errstate(invalid="ignore"):
        return np.asarray(p <= alpha)


# ------------------------------------------------------------------------------------------------ churn


def churn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Fraction of examples whose prediction differs, row by row of two (M, N) arrays -> (M,)."""
    return (a != b).mean(axis=-1)


def pairwise_churn(pred: np.ndarray) -> np.ndarray:
    """Churn between every pair of rows of (M, N) predictions, in the order of
    :func:`pipeline.analysis.floor.seed_pairs`: the dense-vs-dense noise floor.  Empty for a single
    member."""
    pairs = seed_pairs(range(pred.shape[0]))
    if not pairs:
        return np.zeros(0)
    first, second = (np.array(side) for side in zip(*pairs, strict=True))
    out = np.empty(len(pairs))
    for start in range(0, len(pairs), 64):  # bounded memory: 64 pairs x N at a time
        stop = start + 64
        out[start:stop] = churn(pred[first[start:stop]], pred[second[start:stop]])
    return out


# ------------------------------------------------------------------------------------------- confidence


def bin_index(confidence: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width bins over [0, 1], right-closed: (0, 1/B], (1/B, 2/B], ...; 0 falls in the first."""
    return np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)


def ece(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error: sum over bins of |B|/n * |accuracy(B) - mean confidence(B)|."""
    return float(class_ece(confidence, correct, np.zeros(confidence.shape, np.int64), 1, bins)[0])


def class_ece(
    confidence: np.ndarray, correct: np.ndarray, labels: np.ndarray, num_classes: int, bins: int = 15
) -> np.ndarray:
    """(K,) ECE over each true class's examples (NaN for a class without examples).

    Vectorized with one bincount over (class, bin): |B|/n_c * |acc(B) - conf(B)| equals
    |sum of hits in B - sum of confidences in B| / n_c.
    """
    index = labels * bins + bin_index(confidence, bins)
    size = num_classes * bins
    conf_sum = np.bincount(index, weights=confidence, minlength=size).reshape(num_classes, bins)
    hit_sum = np.bincount(index, weights=correct.astype(np.float64), minlength=size).reshape(
        num_classes, bins
    )
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(hit_sum - conf_sum).sum(axis=1) / counts


def class_mean(values: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(K,) mean of ``values`` (N,) over each class's examples (NaN for an empty class)."""
    sums = np.bincount(labels, weights=values, minlength=num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / np.bincount(labels, minlength=num_classes)


@dataclass(frozen=True)
class Confidence:
    """Population means over members: mean max-softmax and ECE, overall and per class (K,)."""

    mean_confidence: float
    ece: float
    class_confidence: np.ndarray
    class_ece: np.ndarray


def population_confidence(
    p_pred: np.ndarray, correct: np.ndarray, labels: np.ndarray, num_classes: int, bins: int
) -> Confidence:
    per_member = [class_ece(p, c, labels, num_classes, bins) for p, c in zip(p_pred, correct, strict=True)]
    class_conf = [class_mean(p, labels, num_classes) for p in p_pred]
    return Confidence(
        mean_confidence=float(p_pred.mean()),
        ece=float(np.mean([ece(p, c, bins) for p, c in zip(p_pred, correct, strict=True)])),
        class_confidence=np.mean(class_conf, axis=0),
        class_ece=np.mean(per_member, axis=0),
    )


@dataclass(frozen=True)
class FlipConfidence:
    """Mean change of max-softmax (compressed minus dense member of the same seed), pooled over seeds,
    for examples whose prediction flipped and for those that stayed."""

    flipped: float
    stable: float
    flipped_count: int
    stable_count: int


def flip_confidence(
    dense_p: np.ndarray, comp_p: np.ndarray, dense_pred: np.ndarray, comp_pred: np.ndarray
) -> FlipConfidence:
    flipped = dense_pred != comp_pred
    delta = comp_p - dense_p
    n_flip = int(flipped.sum())
    n_stable = int(flipped.size - n_flip)
    return FlipConfidence(
        flipped=float(delta[flipped].mean()) if n_flip else float("nan"),
        stable=float(delta[~flipped].mean()) if n_stable else float("nan"),
        flipped_count=n_flip,
        stable_count=n_stable,
    )


# -------------------------------------------------------------------------------------------- confusion


def confusion(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) population mean of the members' row-normalized confusion matrices: entry [i, j] is the
    fraction of class-i examples predicted j (a row of zeros for a class without examples)."""
    k = num_classes
    total = np.zeros((k, k))
    counts = np.maximum(class_counts(labels, k), 1).astype(np.float64)
    for row in pred:  # one (K*K) bincount per member keeps memory at K^2, whatever N and M
        total += np.bincount(labels * k + row, minlength=k * k).reshape(k, k) / counts[:, None]
    return total / pred.shape[0]


def largest_changes(
    dense: np.ndarray, compressed: np.ndarray, top: int
) -> list[tuple[int, int, float, float]]:
    """The ``top`` off-diagonal entries of ``compressed - dense`` with the largest increase, as
    (true class, predicted class, dense rate, compressed rate), largest first; ties by index."""
    diff = compressed - dense
    np.fill_diagonal(diff, -np.inf)
    flat = np.argsort(-diff, axis=None, kind="stable")[:top]
    rows, cols = np.unravel_index(flat, diff.shape)
    return [
        (int(i), int(j), float(dense[i, j]), float(compressed[i, j]))
        for i, j in zip(rows, cols, strict=True)
        if np.isfinite(diff[i, j]) and diff[i, j] > 0
    ]
