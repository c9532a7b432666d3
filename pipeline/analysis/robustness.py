"""A compressed population against the dense population on corrupted test views (SPEC section 10).

A view is the clean test sample under one corruption at one severity; both populations predict the same
images.  Per view: each population's top-1 (mean over members), the PIE rate (examples whose modal label
differs between the populations, as in SPEC section 8) and the churn (members of the same seed that
disagree).  Per corruption, over its severities s (Hendrycks & Dietterich 2019, with the dense population
in AlexNet's place):

* corruption error ``CE = sum_s E_comp(s) / sum_s E_dense(s)``, E = 1 - top-1;
* relative CE ``sum_s (E_comp(s) - E_comp,clean) / sum_s (E_dense(s) - E_dense,clean)``: the degradation
  beyond each population's own clean error on the same images (undefined when the dense population loses
  nothing to the corruption).

mCE and relative mCE are their means over corruptions.  Per class, the recall change (compressed - dense,
population means) on each view says which classes the corruption costs the compressed model most.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.analysis import pie, stats
from pipeline.analysis.population import Population, check_comparable
from pipeline.errors import PredictionsMismatch
from pipeline.numbers import clean, fmt
from pipeline.robustness import CLEAN_VIEW, CORRUPTION_FAMILIES, parse_view

log = logging.getLogger("pipeline.robustness")


@dataclass(frozen=True)
class ViewResult:
    """One view: (M,) member top-1 of each population, the PIE rate, the mean churn, and (K,) population
    mean recall per class of each population (NaN for a class absent from the sample)."""

    top1: np.ndarray
    dense_top1: np.ndarray
    pie_rate: float
    churn: float
    recall: np.ndarray
    dense_recall: np.ndarray

    @property
    def error(self) -> float:
        return 1.0 - float(self.top1.mean())

    @property
    def dense_error(self) -> float:
        return 1.0 - float(self.dense_top1.mean())


def compare_view(dense: Population, comp: Population, num_classes: int) -> ViewResult:
    """The numbers of one view; both populations over the same examples, members in the same seed order."""
    is_pie = pie.pies(pie.modal_of(dense.pred, num_classes), pie.modal_of(comp.pred, num_classes))
    recall = stats.per_class_recall(comp.pred, comp.labels, num_classes).mean(axis=0)  # NaN: class absent
    dense_recall = stats.per_class_recall(dense.pred, dense.labels, num_classes).mean(axis=0)
    return ViewResult(
        top1=comp.top1(),
        dense_top1=dense.top1(),
        pie_rate=float(is_pie.mean()),
        churn=float(stats.churn(dense.pred, comp.pred).mean()),
        recall=recall,
        dense_recall=dense_recall,
    )


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator; NaN when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else float("nan")


def corruption_error(views: list[ViewResult]) -> float:
    """CE over one corruption's severities: the summed compressed error over the summed dense error."""
    return ratio(sum(v.error for v in views), sum(v.dense_error for v in views))


def relative_corruption_error(views: list[ViewResult], clean: ViewResult) -> float:
    """Relative CE: the summed error above each population's clean error, compressed over dense."""
    comp = sum(v.error - clean.error for v in views)
    dense = sum(v.dense_error - clean.dense_error for v in views)
    return ratio(comp, dense)


def mean_finite(values: list[float]) -> float:
    """Mean of the finite values; NaN when there are none."""
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


# ------------------------------------------------------------------------------ one config, every view


@dataclass(frozen=True)
class ConfigRobustness:
    """What the stage writes of one config: summary.json, the views.csv and per_class.csv rows."""

    config: str
    summary: dict[str, Any]
    view_rows: list[dict[str, Any]]
    class_rows: list[dict[str, Any]]


Populations = Mapping[str, Population]  # view -> a population's predictions on it (clean included)


def config_robustness(
    config: str, dense: Populations, comp: Populations, views: Sequence[str], class_names: Sequence[str]
) -> ConfigRobustness:
    """``comp`` against ``dense`` on the corrupted ``views`` (names ``<corruption>-<severity>``, in the
    order the corrupt stage wrote them) and on the clean view restricted to the views' images."""
    k = len(class_names)
    results, sample = {}, None  # sample: the test-split ids of the corrupted views' images
    for view in views:
        check_comparable(dense[view], comp[view], k)
        sample = dense[view].example_ids if sample is None else sample
        if not np.array_equal(dense[view].example_ids, sample):
            raise PredictionsMismatch(f"{view}: other test images than the other views")
        results[view] = compare_view(dense[view], comp[view], k)
    check_comparable(dense[CLEAN_VIEW], comp[CLEAN_VIEW], k)
    clean_dense, clean_comp = dense[CLEAN_VIEW], comp[CLEAN_VIEW]
    if sample is not None:  # the clean view on the corrupted views' images: the relative CE's reference
        clean_dense, clean_comp = clean_dense.subset(sample), clean_comp.subset(sample)
    clean_view = compare_view(clean_dense, clean_comp, k)
    rows = [view_row(CLEAN_VIEW, "none", 0, clean_dense.examples, clean_view)]
    rows += [view_row(v, *parse_view(v), dense[v].examples, r) for v, r in results.items()]
    by_corruption: dict[str, list[ViewResult]] = {}
    for view, result in results.items():
        by_corruption.setdefault(parse_view(view)[0], []).append(result)
    summary = config_summary(
        config, clean_dense.members, clean_dense.examples, views, by_corruption, clean_view
    )
    out = ConfigRobustness(config, summary, rows, all_class_rows(by_corruption, clean_view, class_names))
    log.info("%s", log_line(out, len(by_corruption)))
    return out


def _std(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if values.size > 1 else float("nan")


def view_row(view: str, corruption: str, severity: int, examples: int, r: ViewResult) -> dict[str, Any]:
    """One views.csv row: top-1 of both populations (mean and std over members), error ratio, PIE rate
    and churn (``corruption`` ``none`` for the clean view)."""
    values = {
        "top1": r.top1.mean(),
        "top1_std": _std(r.top1),
        "dense_top1": r.dense_top1.mean(),
        "dense_top1_std": _std(r.dense_top1),
        "error_ratio": ratio(r.error, r.dense_error),
        "pie_rate": r.pie_rate,
        "churn": r.churn,
    }
    family = CORRUPTION_FAMILIES.get(corruption, "none")
    head = {"view": view, "corruption": corruption, "family": family, "severity": severity}
    return head | {"examples": examples} | {key: clean(value) for key, value in values.items()}


def class_rows(corruption: str, results: Sequence[ViewResult], names: Sequence[str]) -> list[dict[str, Any]]:
    """Mean recall per class over ``results`` (views) for both populations, and the change."""
    comp = np.mean([r.recall for r in results], axis=0)
    dense = np.mean([r.dense_recall for r in results], axis=0)
    return [
        {
            "corruption": corruption,
            "class": c,
            "class_name": names[c],
            "dense_recall": clean(dense[c]),
            "compressed_recall": clean(comp[c]),
            "change": clean(comp[c] - dense[c]),
        }
        for c in range(len(names))
    ]


def all_class_rows(
    by_corruption: Mapping[str, list[ViewResult]], clean_view: ViewResult, names: Sequence[str]
) -> list[dict[str, Any]]:
    """per_class.csv: the clean view's rows, then every corrupted view's (``all``), then each
    corruption's."""
    every = [r for results in by_corruption.values() for r in results]
    rows = class_rows(CLEAN_VIEW, [clean_view], names)
    if every:
        rows += class_rows("all", every, names)
    for name, results in by_corruption.items():
        rows += class_rows(name, results, names)
    return rows


def corruption_entry(
    severities: list[int], results: list[ViewResult], clean_view: ViewResult
) -> dict[str, Any]:
    """A corruption's summary entry: CE, relative CE and per severity both top-1s, PIE rate and churn."""
    return {
        "ce": clean(corruption_error(results)),
        "relative_ce": clean(relative_corruption_error(results, clean_view)),
        "severities": severities,
        "top1": [clean(r.top1.mean()) for r in results],
        "dense_top1": [clean(r.dense_top1.mean()) for r in results],
        "pie_rate": [clean(r.pie_rate) for r in results],
        "churn": [clean(r.churn) for r in results],
    }


def config_summary(
    config: str,
    members: int,
    sample_size: int,
    views: Sequence[str],
    by_corruption: Mapping[str, list[ViewResult]],
    clean_view: ViewResult,
) -> dict[str, Any]:
    """summary.json: mCE and relative mCE; per corruption its entry; the clean numbers on the same sample;
    the (up to 3) corruptions that hurt the compressed population most (CE above 1, worst first)."""
    severities = {name: sorted(s for c, s in map(parse_view, views) if c == name) for name in by_corruption}
    ces = {name: corruption_error(results) for name, results in by_corruption.items()}
    ranked = sorted((name for name in ces if ces[name] > 1.0), key=lambda name: -ces[name])
    every = [r for results in by_corruption.values() for r in results]
    relative = [relative_corruption_error(r, clean_view) for r in by_corruption.values()]
    return {
        "config": config,
        "members": members,
        "sample_size": sample_size,
        "severities": sorted({s for _, s in map(parse_view, views)}),
        "corruptions": list(by_corruption),
        "mce": clean(mean_finite(list(ces.values()))),
        "relative_mce": clean(mean_finite(relative)),
        "mean_top1": clean(np.mean([r.top1.mean() for r in every])) if every else None,
        "dense_mean_top1": clean(np.mean([r.dense_top1.mean() for r in every])) if every else None,
        "mean_pie_rate": clean(np.mean([r.pie_rate for r in every])) if every else None,
        "clean": {
            "top1": clean(clean_view.top1.mean()),
            "dense_top1": clean(clean_view.dense_top1.mean()),
            "pie_rate": clean(clean_view.pie_rate),
            "churn": clean(clean_view.churn),
        },
        "hurt_most": [{"corruption": name, "ce": clean(ces[name])} for name in ranked[:3]],
        "per_corruption": {
            name: {"family": CORRUPTION_FAMILIES[name]}
            | corruption_entry(severities[name], results, clean_view)
            for name, results in by_corruption.items()
        },
    }


def log_line(result: ConfigRobustness, corruptions: int) -> str:
    s = result.summary
    return (
        f"{result.config}: mCE {fmt(s['mce'])}, relative mCE {fmt(s['relative_mce'])} over {corruptions} "
        f"corruptions x {len(s['severities'])} severities of {s['sample_size']} images; PIE rate "
        f"{fmt(s['mean_pie_rate'])} corrupted vs {fmt(s['clean']['pie_rate'])} clean"
    )
