"""How sure each finding is: what the per-class test could have detected, and what survives resampling.

- **Detectable change.** For each class, the smallest true change of normalized recall that Welch's
  two-sided t-test at ``alpha`` detects with probability ``power``, given the two populations' sizes and
  their observed per-member standard deviations: the ``delta`` where the noncentral t with the
  Welch-Satterthwaite degrees of freedom and noncentrality ``delta / se`` puts ``power`` beyond the
  critical values. A class "not impacted" is then "not impacted beyond ± that change".
- **Members needed**: the smallest equal population size whose detectable change is at most a target.
- **Stability**: leave-one-member-out. Members are paired by seed (a cell is its dense member
  compressed), so each resample drops one seed from both populations; a finding's frequency is the
  share of resamples that still find it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

MAX_MEMBERS = 10_000  # beyond this a members-needed search reports None


def _power(delta: np.ndarray, se: np.ndarray, df: np.ndarray, crit: np.ndarray) -> np.ndarray:
    """P(|T| > crit) for T ~ noncentral t(df, delta / se), elementwise."""
    from scipy import stats

    nc = delta / se
    lower = stats.nct.cdf(-crit, df, nc)  # underflows to NaN far in the tail, where it is 0
    return np.asarray(stats.nct.sf(crit, df, nc) + np.where(np.isfinite(lower), lower, 0.0))


def welch_df(var_a: np.ndarray, n_a: int, var_b: np.ndarray, n_b: int) -> np.ndarray:
    """Welch-Satterthwaite degrees of freedom of two sample variances."""
    a, b = var_a / n_a, var_b / n_b
    return np.asarray((a + b) ** 2 / (a**2 / (n_a - 1) + b**2 / (n_b - 1)))


def detectable_changes_sd(
    sd_a: np.ndarray, n_a: int, sd_b: np.ndarray, n_b: int, alpha: float = 0.05, power: float = 0.8
) -> np.ndarray:
    """Elementwise over standard deviations: the smallest |mean change| that Welch's two-sided test at
    ``alpha`` detects with ``power``; NaN where undefined (fewer than two members, no spread in either
    population). Bisection on all elements at once: power rises with the change."""
    from scipy import stats

    sd_a, sd_b = np.atleast_1d(np.asarray(sd_a, float)), np.atleast_1d(np.asarray(sd_b, float))
    out = np.full(np.broadcast(sd_a, sd_b).shape, np.nan)
    ok = np.isfinite(sd_a + sd_b) & (sd_a + sd_b > 0)
    if n_a < 2 or n_b < 2 or not ok.any():
        return out
    var_a, var_b = sd_a[ok] ** 2, sd_b[ok] ** 2
    se = np.sqrt(var_a / n_a + var_b / n_b)
    df = welch_df(var_a, n_a, var_b, n_b)
    crit = stats.t.ppf(1 - alpha / 2, df)
    low, high = np.zeros_like(se), se * (crit + 4.0)  # above 0.99 power at crit + 4 standard errors
    while (short := _power(high, se, df, crit) < power).any():
        high = np.where(short, high * 2, high)
    for _ in range(60):  # 2^-60 of the bracket: far below any recall's resolution
        mid = (low + high) / 2
        reached = _power(mid, se, df, crit) >= power
        low, high = np.where(reached, low, mid), np.where(reached, mid, high)
    out[ok] = high
    return out


def detectable_change(
    sd_a: float, n_a: int, sd_b: float, n_b: int, alpha: float = 0.05, power: float = 0.8
) -> float:
    """:func:`detectable_changes_sd` of one pair of standard deviations."""
    return float(detectable_changes_sd(np.array([sd_a]), n_a, np.array([sd_b]), n_b, alpha, power)[0])


def detectable_changes(a: np.ndarray, b: np.ndarray, alpha: float = 0.05, power: float = 0.8) -> np.ndarray:
    """Per column of (M_a, K) and (M_b, K) member values: the detectable change at these sizes."""
    if a.shape[0] < 2 or b.shape[0] < 2:
        return np.full(a.shape[1], np.nan)
    sd_a, sd_b = a.std(axis=0, ddof=1), b.std(axis=0, ddof=1)
    return detectable_changes_sd(sd_a, a.shape[0], sd_b, b.shape[0], alpha, power)


def members_needed(
    sd_a: float, sd_b: float, change: float, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """The smallest n (members in each population) whose detectable change is at most ``change``;
    None when undefined or beyond ``MAX_MEMBERS``."""

    def ok(n: int) -> bool:
        d = detectable_change(sd_a, n, sd_b, n, alpha, power)
        return bool(np.isfinite(d) and d <= change)

    if not np.isfinite(detectable_change(sd_a, 2, sd_b, 2, alpha, power)) or not ok(MAX_MEMBERS):
        return None
    low, high = 2, MAX_MEMBERS  # detectable change falls with n: bisect for the first n that is ok
    if ok(low):
        return low
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if ok(mid) else (mid, high)
    return high


def leave_one_out(members: int) -> list[np.ndarray]:
    """The member indices of each leave-one-member-out resample (needs at least 3 members, so that
    each resample keeps two: the least a t-test needs)."""
    if members < 3:
        return []
    every = np.arange(members)
    return [np.delete(every, i) for i in range(members)]


def frequency(found: Callable[[np.ndarray], np.ndarray], members: int) -> np.ndarray:
    """For a finding computed from a subset of members (``found(indices)`` -> bool array), the share of
    leave-one-out resamples in which each element is found; NaN everywhere when there are none."""
    resamples = leave_one_out(members)
    if not resamples:
        return np.full(found(np.arange(members)).shape, np.nan)
    return np.mean([found(idx) for idx in resamples], axis=0)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|a ∩ b| / |a ∪ b| of two bool masks; 1.0 when both are empty."""
    union = int(np.sum(a | b))
    return 1.0 if union == 0 else int(np.sum(a & b)) / union
