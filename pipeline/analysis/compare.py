"""Everything the ``stats`` stage reports for one config against the dense population, as plain rows and
numbers ready for JSON and CSV (SPEC section 7)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.analysis import stats
from pipeline.analysis.population import Population


def clean(value: Any) -> Any:
    """NaN and infinities as None (JSON has no NaN); NumPy scalars as Python numbers."""
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


@dataclass(frozen=True)
class Reference:
    """The dense population's numbers every config is compared with, computed once."""

    population: Population
    top1: np.ndarray  # (M,)
    recall: np.ndarray  # (M, K)
    confidence: stats.Confidence
    confusion: np.ndarray  # (K, K)
    noise_floor: np.ndarray  # churn of every pair of dense members

    @classmethod
    def build(cls, dense: Population, num_classes: int, ece_bins: int) -> Reference:
        return cls(
            population=dense,
            top1=dense.top1(),
            recall=stats.per_class_recall(dense.pred, dense.labels, num_classes),
            confidence=stats.population_confidence(
                dense.p_pred, dense.correct, dense.labels, num_classes, ece_bins
            ),
            confusion=stats.confusion(dense.pred, dense.labels, num_classes),
            noise_floor=stats.pairwise_churn(dense.pred),
        )


@dataclass(frozen=True)
class ConfigStats:
    summary: dict[str, Any]
    class_rows: list[dict[str, Any]]
    churn_rows: list[dict[str, Any]]
    confusion: np.ndarray
    confusion_rows: list[dict[str, Any]]


def config_stats(
    name: str,
    ref: Reference,
    comp: Population,
    class_names: Sequence[str],
    *,
    alpha: float,
    fdr: float,
    confidence: float,
    ece_bins: int,
    confusion_top: int,
) -> ConfigStats:
    """Accuracy with intervals, the per-class test, churn, confidence and confusion of ``comp``."""
    k = len(class_names)
    dense = ref.population
    top1 = comp.top1()
    recall = stats.per_class_recall(comp.pred, comp.labels, k)
    impact = stats.class_impact(
        ref.recall, recall, ref.top1, top1, alpha=alpha, fdr=fdr, confidence=confidence
    )
    member_churn = stats.churn(comp.pred, dense.pred)
    conf = stats.population_confidence(comp.p_pred, comp.correct, comp.labels, k, ece_bins)
    flips = stats.flip_confidence(dense.p_pred, comp.p_pred, dense.pred, comp.pred)
    matrix = stats.confusion(comp.pred, comp.labels, k)
    top1_ci = stats.mean_interval(top1, confidence)
    churn_ci = stats.mean_interval(member_churn, confidence)
    floor = stats.mean_interval(ref.noise_floor, confidence) if ref.noise_floor.size else None
    summary: dict[str, Any] = {"members": comp.members, "seeds": list(comp.seeds)}
    summary |= top1_ci.as_dict("top1")
    summary |= stats.mean_interval(comp.top5(), confidence).as_dict("top5")
    summary |= {"top1_members": top1.tolist(), "top5_members": comp.top5().tolist()}
    summary |= {
        "top1_drop": float(ref.top1.mean() - top1_ci.mean),
        "tested_classes": int(np.isfinite(impact.p).sum()),
        "impacted_classes": int(impact.impacted.sum()),
        "impacted_classes_fdr": int(impact.impacted_fdr.sum()),
        "impacted_hurt_classes": int((impact.impacted & (impact.t > 0)).sum()),
        "churn": churn_ci.mean,
        "churn_std": churn_ci.std,
        "churn_noise_floor": floor.mean if floor else None,
        "mean_confidence": conf.mean_confidence,
        "confidence_change": conf.mean_confidence - ref.confidence.mean_confidence,
        "ece": conf.ece,
        "ece_change": conf.ece - ref.confidence.ece,
        "flipped_fraction": flips.flipped_count / max(1, flips.flipped_count + flips.stable_count),
        "confidence_change_flipped": flips.flipped,
        "confidence_change_stable": flips.stable,
    }
    counts = stats.class_counts(comp.labels, k)
    class_rows = [
        {
            "config": name,
            "class": c,
            "class_name": class_names[c],
            "examples": int(counts[c]),
            "dense_recall": impact.dense_recall[c],
            "compressed_recall": impact.compressed_recall[c],
            "change": impact.change[c],
            "change_low": impact.change_low[c],
            "change_high": impact.change_high[c],
            "normalized_change": impact.normalized_change[c],
            "t": impact.t[c],
            "p": impact.p[c],
            "q": impact.q[c],
            "impacted": bool(impact.impacted[c]),
            "impacted_fdr": bool(impact.impacted_fdr[c]),
            "dense_confidence": ref.confidence.class_confidence[c],
            "compressed_confidence": conf.class_confidence[c],
            "dense_ece": ref.confidence.class_ece[c],
            "compressed_ece": conf.class_ece[c],
        }
        for c in range(k)
    ]
    churn_rows = [
        {"config": name, "dense_seed": seed, "other_seed": seed, "churn": float(value)}
        for seed, value in zip(comp.seeds, member_churn, strict=True)
    ]
    confusion_rows = [
        {
            "config": name,
            "true": i,
            "true_name": class_names[i],
            "predicted": j,
            "predicted_name": class_names[j],
            "dense_rate": d,
            "compressed_rate": c,
            "change": c - d,
        }
        for i, j, d, c in stats.largest_changes(ref.confusion, matrix, confusion_top)
    ]
    return ConfigStats(
        summary={key: clean(v) for key, v in summary.items()},
        class_rows=[{key: clean(v) for key, v in row.items()} for row in class_rows],
        churn_rows=churn_rows,
        confusion=matrix,
        confusion_rows=confusion_rows,
    )


def noise_floor_rows(dense: Population, floor: np.ndarray) -> list[dict[str, Any]]:
    """The dense-vs-dense churn of every pair of members, as churn.csv rows."""
    from itertools import combinations

    return [
        {"config": "dense_vs_dense", "dense_seed": a, "other_seed": b, "churn": float(value)}
        for (a, b), value in zip(combinations(dense.seeds, 2), floor, strict=True)
    ]
