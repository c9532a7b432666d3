"""Everything the ``stats`` stage reports for every config against the dense population, as plain rows
and numbers ready for JSON and CSV (SPEC section 7; the files: :mod:`pipeline.io.stats`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.analysis import pie, power, stats, subgroups
from pipeline.analysis.floor import seed_pairs
from pipeline.analysis.population import Population, check_comparable
from pipeline.config import StatsParams
from pipeline.io.prepared import TestSplit
from pipeline.io.stats import StatsOutputs
from pipeline.numbers import clean, fmt

log = logging.getLogger("pipeline.stats")


@dataclass(frozen=True)
class Reference:
    """The dense population's numbers every config is compared with, computed once."""

    population: Population
    top1: np.ndarray  # (M,)
    recall: np.ndarray  # (M, K)
    confidence: stats.Confidence
    confusion: np.ndarray  # (K, K)
    noise_floor: np.ndarray  # churn of every pair of dense members
    modal: pie.Modal  # the dense population's modal labels, the reference of the PIE rule

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
            modal=pie.modal_of(dense.pred, num_classes),
        )


@dataclass(frozen=True)
class ConfigStats:
    name: str
    summary: dict[str, Any]
    class_rows: list[dict[str, Any]]
    churn_rows: list[dict[str, Any]]
    confusion: np.ndarray
    confusion_rows: list[dict[str, Any]]


@dataclass(frozen=True)
class Certainty:
    """How sure a config's per-class findings are (:mod:`pipeline.analysis.power`): per class the change
    the test could detect and the share of leave-one-member-out resamples still finding it impacted;
    the members needed to detect ``detect_change`` for the median and the worst class."""

    detectable: np.ndarray  # (K,)
    impacted_frequency: np.ndarray  # (K,), NaN with fewer than 3 members
    needed_median: int | None
    needed_worst: int | None

    def summary(self, impact: stats.ClassImpact) -> dict[str, Any]:
        finite = self.detectable[np.isfinite(self.detectable)]
        stable = impact.impacted & (self.impacted_frequency >= 1.0)
        return {
            "detectable_change_median": float(np.median(finite)) if finite.size else None,
            "detectable_change_worst": float(finite.max()) if finite.size else None,
            "members_needed_median": self.needed_median,
            "members_needed_worst": self.needed_worst,
            "impacted_stable_classes": int(stable.sum()),
            "impacted_fragile_classes": int((impact.impacted & ~stable).sum()),
        }


def certainty(ref: Reference, comp: Population, recall: np.ndarray, cfg: StatsParams) -> Certainty:
    """The detectable change per class at these population sizes, the members needed for
    ``cfg.detect_change`` (median and worst class by their pooled spread), and the leave-one-out
    frequency of each class's impacted flag (members paired by seed)."""
    dense_top1, comp_top1 = ref.top1, comp.top1()
    detectable = power.detectable_changes(ref.recall, recall, cfg.alpha, cfg.power)

    paired = tuple(comp.seeds) == tuple(ref.population.seeds)
    resamples = np.array(power.leave_one_out(comp.members)) if paired else np.zeros((0, 0), int)
    freq = np.full(recall.shape[1], np.nan)
    if len(resamples):  # every resample's per-class test at once: (R, M - 1, K)
        stacked = (ref.recall[resamples], recall[resamples], dense_top1[resamples], comp_top1[resamples])
        freq = stats.impacted_flags(*stacked, cfg.alpha).mean(axis=0)
    sd_d, sd_c = ref.recall.std(axis=0, ddof=1), recall.std(axis=0, ddof=1)
    pooled = np.sqrt((sd_d**2 + sd_c**2) / 2)
    needed: list[int | None] = [None, None]
    if comp.members >= 2 and np.isfinite(pooled).any() and np.nanmax(pooled) > 0:
        order = np.argsort(np.where(np.isfinite(pooled), pooled, -1.0))
        valid = order[np.isfinite(pooled[order])]
        for i, c in enumerate((valid[len(valid) // 2], valid[-1])):
            needed[i] = power.members_needed(
                float(sd_d[c]), float(sd_c[c]), cfg.detect_change, cfg.alpha, cfg.power
            )
    return Certainty(detectable, freq, needed[0], needed[1])


def config_stats(
    name: str, ref: Reference, comp: Population, class_names: Sequence[str], cfg: StatsParams
) -> ConfigStats:
    """Accuracy with intervals, the per-class test and how sure it is, churn, confidence and confusion
    of ``comp``."""
    k = len(class_names)
    dense = ref.population
    recall = stats.per_class_recall(comp.pred, comp.labels, k)
    impact = stats.class_impact(
        ref.recall, recall, ref.top1, comp.top1(), alpha=cfg.alpha, fdr=cfg.fdr, confidence=cfg.confidence
    )
    sure = certainty(ref, comp, recall, cfg)
    member_churn = stats.churn(comp.pred, dense.pred)
    conf = stats.population_confidence(comp.p_pred, comp.correct, comp.labels, k, cfg.ece_bins)
    matrix = stats.confusion(comp.pred, comp.labels, k)
    summary = config_summary(ref, comp, impact, member_churn, conf, cfg.confidence) | sure.summary(impact)
    churn_rows = [
        {"config": name, "dense_seed": seed, "other_seed": seed, "churn": float(value)}
        for seed, value in zip(comp.seeds, member_churn, strict=True)
    ]
    changes = stats.largest_changes(ref.confusion, matrix, cfg.confusion_top)
    return ConfigStats(
        name=name,
        summary={key: clean(v) for key, v in summary.items()},
        class_rows=class_rows(name, ref, comp, impact, conf, sure, class_names),
        churn_rows=churn_rows,
        confusion=matrix,
        confusion_rows=confusion_rows(name, changes, class_names),
    )


def config_summary(
    ref: Reference,
    comp: Population,
    impact: stats.ClassImpact,
    member_churn: np.ndarray,
    conf: stats.Confidence,
    confidence: float,
) -> dict[str, Any]:
    """A config's summary.json entry (before cleaning): accuracy with intervals, impacted classes, churn
    against its noise floor, confidence and ECE against the dense population's, confidence on flips."""
    dense = ref.population
    flips = stats.flip_confidence(dense.p_pred, comp.p_pred, dense.pred, comp.pred)
    top1_ci = stats.mean_interval(comp.top1(), confidence)
    churn_ci = stats.mean_interval(member_churn, confidence)
    floor = stats.mean_interval(ref.noise_floor, confidence) if ref.noise_floor.size else None
    summary: dict[str, Any] = {"members": comp.members, "seeds": list(comp.seeds)}
    summary |= top1_ci.as_dict("top1")
    summary |= stats.mean_interval(comp.top5(), confidence).as_dict("top5")
    summary |= {"top1_members": comp.top1().tolist(), "top5_members": comp.top5().tolist()}
    return summary | {
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


def class_rows(
    name: str,
    ref: Reference,
    comp: Population,
    impact: stats.ClassImpact,
    conf: stats.Confidence,
    sure: Certainty,
    class_names: Sequence[str],
) -> list[dict[str, Any]]:
    """per_class/<config>.csv: per class, recalls and their Welch test with the change it could detect
    and the leave-one-out frequency of its verdict, confidence and ECE of both."""
    counts = stats.class_counts(comp.labels, len(class_names))
    rows = [
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
            "detectable_change": sure.detectable[c],
            "impacted_frequency": sure.impacted_frequency[c],
            "dense_confidence": ref.confidence.class_confidence[c],
            "compressed_confidence": conf.class_confidence[c],
            "dense_ece": ref.confidence.class_ece[c],
            "compressed_ece": conf.class_ece[c],
        }
        for c in range(len(class_names))
    ]
    return [{key: clean(v) for key, v in row.items()} for row in rows]


def confusion_rows(
    name: str, changes: Sequence[tuple[int, int, float, float]], class_names: Sequence[str]
) -> list[dict[str, Any]]:
    """confusion_changes.csv rows of (true, predicted, dense rate, compressed rate) changes."""
    return [
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
        for i, j, d, c in changes
    ]


def noise_floor_rows(dense: Population, floor: np.ndarray) -> list[dict[str, Any]]:
    """The dense-vs-dense churn of every pair of members, as churn.csv rows."""
    return [
        {"config": "dense_vs_dense", "dense_seed": a, "other_seed": b, "churn": float(value)}
        for (a, b), value in zip(seed_pairs(dense.seeds), floor, strict=True)
    ]


def noise_floor_summary(floor: np.ndarray) -> dict[str, Any]:
    """The summary's ``noise_floor``: mean and std of the dense-vs-dense churn, and the number of pairs."""
    return {
        "churn": clean(floor.mean()) if floor.size else None,
        "churn_std": clean(floor.std(ddof=1)) if floor.size > 1 else None,
        "pairs": int(floor.size),
    }


def log_line(result: ConfigStats) -> str:
    s = result.summary
    return (
        f"{result.name:<26} top-1 {fmt(s['top1'])}  drop {fmt_signed(s['top1_drop'])}  impacted "
        f"{s['impacted_classes']} (FDR {s['impacted_classes_fdr']})  churn {fmt(s['churn'])}  "
        f"ECE {fmt_signed(s['ece_change'])}"
    )


def fmt_signed(value: Any) -> str:
    """A change for a log line: its sign always shown, ``n/a`` when missing."""
    text = fmt(value)
    return text if text == "n/a" or text.startswith("-") else f"+{text}"


def group_rows(
    result: ConfigStats, ref: Reference, comp: Population, test: TestSplit, columns: Sequence[int]
) -> list[dict[str, Any]]:
    """The config's subgroup rows over the attribute ``columns`` of the test split (SPEC section 7)."""
    if not columns or test.attributes is None:
        return []
    dense, k = ref.population, test.num_classes
    return subgroups.subgroup_rows(
        result.name,
        test.attributes[:, columns],
        [test.attribute_names[c] for c in columns],
        pie.pies(ref.modal, pie.modal_of(comp.pred, k)),
        dense.correct,
        comp.correct,
        comp.pred != dense.pred,
    )


def study_stats(
    ref: Reference, populations: Iterable[Population], test: TestSplit, cfg: StatsParams
) -> StatsOutputs:
    """Every config's population (``populations``, the dense one included, in the summary's order)
    against the dense reference ``ref``; each is read, compared and dropped in turn."""
    columns = subgroups.attribute_columns(test, cfg.subgroup_attributes, "stats.subgroup_attributes")
    if ref.population.members < 2:
        log.warning("a population of 1 member: the per-class t-test needs at least 2; no class is tested")
    summary: dict[str, Any] = {"alpha": cfg.alpha, "fdr": cfg.fdr, "confidence": cfg.confidence}
    summary |= {"power": cfg.power, "detect_change": cfg.detect_change}
    summary |= {"members": ref.population.members, "noise_floor": noise_floor_summary(ref.noise_floor)}
    summary["configs"] = {}
    per_class, confusion, churn_rows = {}, {}, noise_floor_rows(ref.population, ref.noise_floor)
    confusion_rows: list[dict[str, Any]] = []
    group: list[dict[str, Any]] = []
    for comp in populations:
        check_comparable(ref.population, comp, test.num_classes)
        result = config_stats(comp.name, ref, comp, test.class_names, cfg)
        summary["configs"][comp.name] = result.summary
        per_class[comp.name] = result.class_rows
        confusion[comp.name] = (result.confusion, result.confusion - ref.confusion)
        churn_rows += result.churn_rows
        confusion_rows += result.confusion_rows
        group += group_rows(result, ref, comp, test, columns)
        log.info("%s", log_line(result))
    subgroup_rows = group if columns else None
    return StatsOutputs(summary, per_class, confusion, churn_rows, confusion_rows, subgroup_rows)
