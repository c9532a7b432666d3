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

from dataclasses import dataclass

import numpy as np

from pipeline.analysis import pie, stats
from pipeline.analysis.population import Population


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
    dense_modal = pie.modal_labels(pie.vote_counts(dense.pred, num_classes)).label
    comp_modal = pie.modal_labels(pie.vote_counts(comp.pred, num_classes)).label
    recall = stats.per_class_recall(comp.pred, comp.labels, num_classes).mean(axis=0)  # NaN: class absent
    dense_recall = stats.per_class_recall(dense.pred, dense.labels, num_classes).mean(axis=0)
    return ViewResult(
        top1=comp.top1(),
        dense_top1=dense.top1(),
        pie_rate=float((comp_modal != dense_modal).mean()),
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
