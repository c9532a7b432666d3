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

import numpy as np

MAX_MEMBERS = 10_000  # beyond this a members-needed search reports None


def _power(nc: np.ndarray, df: np.ndarray, crit: np.ndarray) -> np.ndarray:
    """P(|T| > crit) for T ~ noncentral t(df, nc), elementwise."""
    from scipy import stats

    lower = stats.nct.cdf(-crit, df, nc)  # underflows to NaN far in the tail, where it is 0
    return np.asarray(stats.nct.sf(crit, df, nc) + np.where(np.isfinite(lower), lower, 0.0))


def welch_df(
    var_a: np.ndarray, n_a: np.ndarray | int, var_b: np.ndarray, n_b: np.ndarray | int
) -> np.ndarray:
    """Welch-Satterthwaite degrees of freedom of two sample variances."""
    a, b = var_a / n_a, var_b / n_b
    return np.asarray((a + b) ** 2 / (a**2 / (np.asarray(n_a) - 1) + b**2 / (np.asarray(n_b) - 1)))


def noncentrality(df: np.ndarray, crit: np.ndarray, power: float) -> np.ndarray:
    """Elementwise, the noncentrality at which the two-sided test with critical value ``crit`` on ``df``
    degrees of freedom reaches ``power``: power rises with it from alpha at 0, so the root is bracketed
    by 0 and a bound doubled until the power passes ``power``, and found by Chandrupatla's method
    (``scipy.optimize.elementwise.find_root``) to within a few ulps. A ``power`` the test has at no
    change at all (at most alpha) needs none: 0."""
    from scipy.optimize.elementwise import find_root

    if np.all(_power(np.zeros_like(crit), df, crit) >= power):
        return np.zeros_like(crit)
    high = crit + 4.0  # 0.8 power or more at crit + 4 for any df (0.81 at df = 1); doubled where short
    while (short := _power(high, df, crit) < power).any():
        high = np.where(short, high * 2, high)
    found = find_root(lambda nc, d, c: _power(nc, d, c) - power, (np.zeros_like(high), high), args=(df, crit))
    return np.asarray(found.x)


def detectable_changes_sd(
    sd_a: np.ndarray | float,
    n_a: np.ndarray | int,
    sd_b: np.ndarray | float,
    n_b: np.ndarray | int,
    alpha: float = 0.05,
    power: float = 0.8,
) -> np.ndarray:
    """Elementwise over standard deviations and population sizes (broadcast): the smallest |mean change|
    that Welch's two-sided test at ``alpha`` detects with ``power``, that is the standard error times
    the noncentrality reaching ``power`` (:func:`noncentrality`); NaN where undefined (fewer than two
    members, no spread in either population)."""
    from scipy import stats

    arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(x, float)) for x in (sd_a, n_a, sd_b, n_b)))
    sd_a, n_a, sd_b, n_b = arrays
    out = np.full(sd_a.shape, np.nan)
    ok = np.isfinite(sd_a + sd_b) & (sd_a + sd_b > 0) & (n_a >= 2) & (n_b >= 2)
    if not ok.any():
        return out
    var_a, var_b, na, nb = sd_a[ok] ** 2, sd_b[ok] ** 2, n_a[ok], n_b[ok]
    se = np.sqrt(var_a / na + var_b / nb)
    df = welch_df(var_a, na, var_b, nb)
    out[ok] = se * noncentrality(df, stats.t.ppf(1 - alpha / 2, df), power)
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
    None when undefined or beyond ``MAX_MEMBERS``.

    The detectable change falls with n. The search starts a little below the n at which the normal
    test's, ``(z_alpha/2 + z_power) * sqrt((sd_a^2 + sd_b^2) / n)``, reaches ``change`` (usually just
    below the answer) and evaluates whole windows of consecutive n at once, each twice as wide as the
    last; where the start itself already reaches it (at a power near alpha the other tail adds power,
    so the answer can lie below), it bisects between 2 and the start."""
    from scipy import stats

    spread = sd_a**2 + sd_b**2
    if not (np.isfinite(spread) and spread > 0 and change > 0):
        return None

    def reaches(n: np.ndarray) -> np.ndarray:
        return np.asarray(detectable_changes_sd(sd_a, n, sd_b, n, alpha, power) <= change)

    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    with np.errstate(over="ignore", divide="ignore"):
        normal = 0.9 * z**2 * spread / change**2
    start = low = int(min(max(normal, 2.0), MAX_MEMBERS)) if np.isfinite(normal) else MAX_MEMBERS
    width = 16
    while low <= MAX_MEMBERS:
        n = np.arange(low, min(low + width, MAX_MEMBERS + 1))
        reached = np.flatnonzero(reaches(n))
        if reached.size:
            found = int(n[reached[0]])
            break
        low, width = int(n[-1]) + 1, width * 2
    else:
        return None
    if found != start or start == 2:
        return found
    below, above = 1, start  # above reaches; bisect for the first n in 2..start that does
    while above - below > 1:
        mid = (below + above) // 2
        below, above = (below, mid) if reaches(np.array([mid]))[0] else (mid, above)
    return above


def leave_one_out(members: int) -> list[np.ndarray]:
    """The member indices of each leave-one-member-out resample (needs at least 3 members, so that
    each resample keeps two: the least a t-test needs)."""
    if members < 3:
        return []
    every = np.arange(members)
    return [np.delete(every, i) for i in range(members)]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|a ∩ b| / |a ∪ b| of two bool masks; 1.0 when both are empty."""
    union = int(np.sum(a | b))
    return 1.0 if union == 0 else int(np.sum(a & b)) / union
