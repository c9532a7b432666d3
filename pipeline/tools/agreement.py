"""Does a run agree with another one within the population's spread? For each config and each number that
is a mean over the members (top-1, top-5, churn, saliency MAD), Welch's t interval of the difference of
the two population means (Welch 1947; the members of each run as independent draws, which is
conservative where two machines' members of one seed stay alike). The intervals are Bonferroni-corrected
over every test, so that ``alpha`` is the chance that two runs of the same population disagree anywhere,
not per number (48 tests at 5% each would flag about two by chance).

Byte-identical runs agree trivially (difference 0); so do populations without spread that agree to the
rounding of the numbers (pipeline.report.metrics.DIGITS).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scipy import stats

from pipeline.report.metrics import DIGITS

# A mean over the members -> the key of its sample standard deviation (the member count is ``members``).
SPREADS = {
    "top1": "top1_std",
    "top5": "top5_std",
    "churn": "churn_std",
    "saliency_mad": "saliency_mad_std",
}
# Two numbers rounded to DIGITS decimals may differ by up to this much in their difference.
TOLERANCE = 10.0**-DIGITS


@dataclass(frozen=True)
class Sample:
    """A population's mean of one number over its ``n`` members and their sample standard deviation."""

    mean: float
    std: float
    n: int


@dataclass(frozen=True)
class Verdict:
    """One test: ``low``..``high`` is the interval of ours.mean - theirs.mean."""

    config: str
    metric: str
    ours: Sample
    theirs: Sample
    low: float
    high: float

    @property
    def difference(self) -> float:
        return self.ours.mean - self.theirs.mean

    @property
    def agrees(self) -> bool:
        return self.low - TOLERANCE <= 0.0 <= self.high + TOLERANCE


def sample_of(numbers: Mapping[str, Any], metric: str) -> Sample | None:
    """The population sample of ``metric`` in one config's numbers; None where the mean, its spread or a
    count of at least two members is missing."""
    mean, std, n = numbers.get(metric), numbers.get(SPREADS[metric]), numbers.get("members")
    if mean is None or std is None or not isinstance(n, int) or n < 2:
        return None
    return Sample(float(mean), float(std), n)


def welch_interval(a: Sample, b: Sample, confidence: float) -> tuple[float, float]:
    """Welch's t interval of a.mean - b.mean at ``confidence`` (Welch-Satterthwaite degrees of freedom);
    the difference itself when neither side has spread."""
    va, vb = a.std**2 / a.n, b.std**2 / b.n
    difference = a.mean - b.mean
    if va + vb == 0.0:
        return difference, difference
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * math.sqrt(va + vb)
    return difference - half, difference + half


def common_configs(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> list[str]:
    """The configs of both runs, in our order; a ValueError naming the configs only one of them has."""
    only_ours, only_theirs = sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours))
    if only_ours or only_theirs:
        raise ValueError(
            f"the runs have other configs (only ours: {', '.join(only_ours) or '-'}; "
            f"only theirs: {', '.join(only_theirs) or '-'}): not the same study"
        )
    return list(ours)


def agreement(
    ours: Mapping[str, Mapping[str, Any]], theirs: Mapping[str, Mapping[str, Any]], alpha: float
) -> list[Verdict]:
    """Every test that both runs have the numbers for (config -> numbers, as results.json), each at
    confidence 1 - alpha / tests."""
    pairs = []
    for config in common_configs(ours, theirs):
        for metric in SPREADS:
            a, b = sample_of(ours[config], metric), sample_of(theirs[config], metric)
            if a is not None and b is not None:
                pairs.append((config, metric, a, b))
    confidence = 1.0 - alpha / max(1, len(pairs))
    return [Verdict(c, m, a, b, *welch_interval(a, b, confidence)) for c, m, a, b in pairs]
