"""How two sets of saliency maps differ, image by image (SPEC section 9).

Maps are (N, H, W) in [0, 1], row n of both sets from the same image.  Every measure is computed per image
and returned per image (N,), so the caller can average over images and then over seeds:

* ``mad``: mean absolute deviation, mean |a - b| over the pixels;
* ``signed``: the signed mean difference, mean (b - a): positive when the second model (the compressed
  one) puts more saliency on the image than the first (the dense one);
* ``spearman``: Spearman rank correlation of the pixels (Pearson correlation of average ranks);
* ``top_overlap``: the share of the top 10% pixels of ``a`` that are also among the top 10% of ``b``
  (ties at the cut-off broken by pixel index, the same way for both maps).
"""

from __future__ import annotations

import math

import numpy as np

METRICS = ("mad", "signed", "spearman", "top_overlap")  # compare's measures, in this order

Metrics = dict[str, np.ndarray]  # measure name -> per-image values (N,)


def mad(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b).reshape(a.shape[0], -1).mean(axis=1)


def signed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (b - a).reshape(a.shape[0], -1).mean(axis=1)


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..P of each row of ``x`` (N, P), ties given the mean of their positions: what
    ``scipy.stats.rankdata(x, axis=1)`` returns (tests/saliency check it), without importing scipy.stats,
    which costs 1.5 s in each of a study's saliency processes."""
    n, p = x.shape
    order = np.argsort(x, axis=1, kind="stable")
    ordered = np.take_along_axis(x, order, axis=1)
    starts = np.ones((n, p), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]  # a new value (tie group) begins; every row starts one
    group = np.cumsum(starts.ravel()) - 1
    position = np.tile(np.arange(1, p + 1, dtype=np.float64), n)
    mean = np.bincount(group, weights=position) / np.bincount(group)
    ranks = np.empty((n, p), dtype=np.float64)
    np.put_along_axis(ranks, order, mean[group].reshape(n, p), axis=1)
    ranks[np.isnan(x).any(axis=1)] = np.nan  # as rankdata: a row with a NaN has no ranking
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per image; NaN where a map is constant (no ranking to correlate)."""
    ra = average_ranks(a.reshape(a.shape[0], -1))
    rb = average_ranks(b.reshape(b.shape[0], -1))
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (ra * rb).sum(axis=1) / np.where(denom > 0, denom, 1.0), np.nan)


def top_overlap(a: np.ndarray, b: np.ndarray, fraction: float = 0.1) -> np.ndarray:
    """|top(a) ∩ top(b)| / k with k = ceil(fraction × pixels)."""
    flat_a = a.reshape(a.shape[0], -1)
    flat_b = b.reshape(b.shape[0], -1)
    k = max(1, math.ceil(fraction * flat_a.shape[1]))
    top_a = np.argsort(-flat_a, axis=1, kind="stable")[:, :k]
    top_b = np.argsort(-flat_b, axis=1, kind="stable")[:, :k]
    in_a = np.zeros(flat_a.shape, dtype=bool)
    np.put_along_axis(in_a, top_a, True, axis=1)
    return np.take_along_axis(in_a, top_b, axis=1).sum(axis=1) / k


def compare(a: np.ndarray, b: np.ndarray) -> Metrics:
    """Every measure, per image, of maps ``b`` against maps ``a``."""
    if a.shape != b.shape:
        raise ValueError(f"saliency maps differ in shape: {a.shape} and {b.shape}")
    return {
        "mad": mad(a, b),
        "signed": signed(a, b),
        "spearman": spearman(a, b),
        "top_overlap": top_overlap(a, b),
    }
