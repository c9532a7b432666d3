"""The numbers of each config: every one in ``reports/results.json`` (config -> key -> number, what
the comparison tools of pipeline/tools/ read) and the few of :data:`HEADLINE` in
``reports/metrics/<config>.json``, DVC's metrics, so that ``dvc metrics show`` prints one readable row
per config and ``dvc metrics diff`` and ``dvc exp show`` compare experiments. Both hold
numbers rounded by :func:`rounded`.

Numbers come from the predict summaries (size, sparsity), the ``stats`` and ``pie`` stages, and each
config's ``saliency``, ``robustness`` and ``representations`` summaries (saliency MAD and its
dense-vs-dense floor, mCE, the PIE rate under corruption, last-layer CKA and its floor).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.numbers import clean, fmt
from pipeline.report.load import Inputs

# The decimals kept in the numbers DVC shows and compares (metrics/, results.json). A top-1 is a mean of
# k/N fractions (N test examples, a few members): exact at five decimals for N up to 10 000 and 5 members;
# six keep it exact and keep a standard deviation or an ECE to three or four significant digits, while a
# float's rounding noise (1e-16 where two means are equal) becomes 0. (Here, not in pipeline/numbers.py:
# every stage depends on that module, and only the report's files are rounded.)
DIGITS = 6

# Copied from the stats summary of each config, in this order.
STATS_KEYS = (
    "members",
    "top1",
    "top1_std",
    "top1_low",
    "top1_high",
    "top1_drop",
    "top5",
    "top5_std",
    "impacted_classes",
    "impacted_classes_fdr",
    "churn",
    "churn_std",
    "churn_noise_floor",
    "ece",
    "ece_change",
    # how sure the per-class findings are (pipeline/analysis/power.py)
    "detectable_change_median",
    "detectable_change_worst",
    "members_needed_median",
    "members_needed_worst",
    "impacted_stable_classes",
    "impacted_fragile_classes",
)
# Copied from the pie summary of each config (None for dense): what PIEs are, how stable the set is.
PIE_KEYS = (
    "label_issue_rate_pies",
    "label_issue_rate_rest",
    "label_issue_enrichment",
    "enrichment_low",
    "enrichment_high",
    "agreement_pies",
    "agreement_rest",
    "atypicality_pies",
    "atypicality_rest",
    "pie_jaccard_loo_mean",
    "pie_jaccard_loo_min",
    "pies_stable",
)

# The keys beyond_accuracy adds; None for a config without those summaries (dense may have none).
BEYOND_KEYS = (
    "saliency_mad",
    "saliency_mad_std",
    "saliency_mad_floor",
    "mce",
    "relative_mce",
    "corrupted_top1",
    "corrupted_pie_rate",
    "cka_last",
    "cka_last_floor",
)

# The keys of a config's headline file, DVC's metrics. Chosen to answer "what did it forget, at what
# size, how sure is it, and what are its PIEs" and to fit: ``COLUMNS=170 dvc metrics show`` prints a row
# per config without truncation (each column is as wide as its name; the path column takes 46 for
# magnitude_70+int8_static). ``enrichment``: the label-issue rate of the PIEs over that of the rest;
# ``mde``: the median class's detectable recall change; ``pie_loo``: the mean Jaccard index of the PIE
# set with itself under leaving one member out. The rest, and every interval and noise floor, is in
# results.json.
HEADLINE_NAMES = {
    "enrichment": "label_issue_enrichment",
    "mde": "detectable_change_median",
    "pie_loo": "pie_jaccard_loo_mean",
}
HEADLINE = (
    "top1",
    "top1_drop",
    "impacted_classes",
    "pie_fraction",
    "churn",
    "size_ratio",
    "mce",
    "cka_last",
    *HEADLINE_NAMES,
)

# The numbers of a config's log line, with their labels.
LOGGED = (
    ("top-1", "top1"),
    ("drop", "top1_drop"),
    ("PIEs", "pie_fraction"),
    ("churn", "churn"),
    ("size", "size_ratio"),
    ("saliency MAD", "saliency_mad"),
    ("mCE", "mce"),
    ("CKA", "cka_last"),
)


def rounded(value: Any, digits: int = DIGITS) -> Any:
    """``value`` ready for a DVC metrics file: a float rounded to ``digits`` decimals, with -0.0 as 0.0
    (a difference of equal means must not show a sign); integers, booleans, None and strings as they are;
    NaN and infinities as None (pipeline.numbers.clean)."""
    value = clean(value)
    if isinstance(value, float):
        return round(value, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return value


def size_metrics(members: list[Mapping[str, Any]]) -> dict[str, float]:
    """Mean storage size against the dense member, its inverse, and the mean achieved sparsity."""
    size_ratio = statistics.fmean(float(m["size_ratio"]) for m in members)
    return {
        "size_ratio": size_ratio,
        "compression_ratio": 1.0 / size_ratio,
        "sparsity": statistics.fmean(float(m["sparsity"]) for m in members),
    }


def config_metrics(
    predict: Mapping[str, Any], stats: Mapping[str, Any], pie: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The flat metrics of one config; the dense reference has a PIE fraction of 0 by definition."""
    out = {key: stats.get(key) for key in STATS_KEYS}
    out["pie_fraction"] = pie["pie_fraction"] if pie is not None else 0.0
    out |= {key: (pie.get(key) if pie is not None else None) for key in PIE_KEYS}
    return out | size_metrics(predict["members"])


def beyond_accuracy(
    saliency: Mapping[str, Any], robustness: Mapping[str, Any], representations: Mapping[str, Any]
) -> dict[str, Any]:
    """Saliency, robustness and representation metrics of one config, each next to its reference."""
    last = representations["layers"][-1] if representations["layers"] else {}
    return {
        "saliency_mad": saliency["mad"],
        "saliency_mad_std": spread(seed["mad"] for seed in saliency.get("per_seed", [])),
        "saliency_mad_floor": saliency["noise_floor"]["mad"],
        "mce": robustness["mce"],
        "relative_mce": robustness["relative_mce"],
        "corrupted_top1": robustness["mean_top1"],
        "corrupted_pie_rate": robustness["mean_pie_rate"],
        "cka_last": representations["cka_last"],
        "cka_last_floor": last.get("floor_linear_cka"),
    }


def spread(values: Iterable[float | None]) -> float | None:
    """The sample standard deviation over the members (None with fewer than two numbers)."""
    known = [float(v) for v in values if v is not None]
    return statistics.stdev(known) if len(known) >= 2 else None


def metrics_of(inputs: Inputs, name: str) -> dict[str, Any]:
    """Every number of one config, as computed (rounded by :func:`study_metrics`)."""
    out = config_metrics(inputs.predict[name], inputs.stats_of(name), inputs.pie_of(name))
    saliency, robustness = inputs.saliency[name], inputs.robustness[name]
    representations = inputs.representations[name]
    if saliency is None or robustness is None or representations is None:  # only dense may lack them
        return out | dict.fromkeys(BEYOND_KEYS)
    return out | beyond_accuracy(saliency, robustness, representations)


def study_metrics(inputs: Inputs) -> dict[str, dict[str, Any]]:
    """results.json: config -> every number, rounded, in the study's order (dense first)."""
    return {
        name: {key: rounded(value) for key, value in metrics_of(inputs, name).items()}
        for name in inputs.study.configs
    }


def headline(results: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The metrics files: config -> its :data:`HEADLINE` numbers (a missing one is left out: DVC shows
    an empty cell)."""

    def value(numbers: Mapping[str, Any], key: str) -> Any:
        return numbers.get(HEADLINE_NAMES.get(key, key))

    return {
        name: {key: value(numbers, key) for key in HEADLINE if value(numbers, key) is not None}
        for name, numbers in results.items()
    }


def log_line(name: str, metrics: Mapping[str, Any]) -> str:
    """One config's headline numbers on one line (``n/a`` for a missing one)."""
    impacted = f"impacted {fmt(metrics['impacted_classes'])}/{fmt(metrics['impacted_classes_fdr'])}"
    numbers = [f"{label} {fmt(metrics[key])}" for label, key in LOGGED]
    return f"{name:<26} " + "  ".join([*numbers[:2], impacted, *numbers[2:]])
