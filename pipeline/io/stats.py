"""The ``stats`` stage's output folder, for its writer and every reader (SPEC section 7)::

data/stats/summary.json                   per config: top-1/top-5 with intervals, drop, impacted
                                          classes, churn and its noise floor, confidence, ECE
data/stats/per_class/<config>.csv         per class: recalls, change, Welch test, confidence, ECE
data/stats/churn.csv                      per config and seed, plus every dense-vs-dense pair
data/stats/confusion/mean/<config>.npy    population-mean row-normalized confusion matrix (K, K)
data/stats/confusion/diff/<config>.npy    that minus the dense population's
data/stats/confusion_changes.csv          per config, the largest increases of off-diagonal confusion
data/stats/subgroups.csv                  per config and attribute group (datasets with attributes)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.io.files import atomic_path, read_json, read_npy, write_json
from pipeline.io.tables import read_table, write_table

WRITER = "stats"
SUMMARY = "summary.json"
CHURN = "churn.csv"
CONFUSION_CHANGES = "confusion_changes.csv"
SUBGROUPS = "subgroups.csv"

CLASS_COLUMNS = [
    *("config", "class", "class_name", "examples", "dense_recall", "compressed_recall"),
    *("change", "change_low", "change_high", "normalized_change", "t", "p", "q", "impacted"),
    *(
        "impacted_fdr",
        "detectable_change",
        "impacted_frequency",
        "dense_confidence",
        "compressed_confidence",
        "dense_ece",
        "compressed_ece",
    ),
]
CHURN_COLUMNS = ["config", "dense_seed", "other_seed", "churn"]
CONFUSION_COLUMNS = [
    *("config", "true", "true_name", "predicted", "predicted_name"),
    *("dense_rate", "compressed_rate", "change"),
]
SUBGROUP_COLUMNS = [
    *("config", "attribute", "value", "examples", "test_share", "pies", "pie_rate", "pie_share"),
    *("pie_over_index", "dense_top1", "compressed_top1", "top1_drop", "churn"),
]
TEXT = frozenset({"config", "class_name", "true_name", "predicted_name", "attribute"})  # read as strings


@dataclass(frozen=True)
class StatsFolder:
    """``root``: the stage's output folder (``data/stats``)."""

    root: Path

    def summary(self) -> Path:
        return self.root / SUMMARY

    def per_class(self, config: str) -> Path:
        return self.root / "per_class" / f"{config}.csv"

    def confusion(self, kind: str, config: str) -> Path:
        """``kind``: ``mean`` (the config's matrix) or ``diff`` (that minus the dense population's)."""
        return self.root / "confusion" / kind / f"{config}.npy"


@dataclass(frozen=True)
class StatsOutputs:
    """Everything the stage writes: the summary, per config its class rows and (mean, diff) confusion
    matrices, the churn and confusion-change rows, and the subgroup rows (None: no table)."""

    summary: Mapping[str, Any]
    per_class: Mapping[str, Sequence[Mapping[str, Any]]]
    confusion: Mapping[str, tuple[np.ndarray, np.ndarray]]
    churn: Sequence[Mapping[str, Any]]
    confusion_changes: Sequence[Mapping[str, Any]]
    subgroups: Sequence[Mapping[str, Any]] | None


def write_stats(root: Path, outputs: StatsOutputs) -> None:
    """The layout above into ``root``."""
    folder = StatsFolder(Path(root))
    for config, rows in outputs.per_class.items():
        write_table(folder.per_class(config), rows, CLASS_COLUMNS)
    for config, (mean, diff) in outputs.confusion.items():
        for kind, matrix in (("mean", mean), ("diff", diff)):
            with atomic_path(folder.confusion(kind, config)) as tmp, tmp.open("wb") as handle:
                np.save(handle, matrix, allow_pickle=False)
    write_json(folder.summary(), outputs.summary)
    write_table(folder.root / CHURN, outputs.churn, CHURN_COLUMNS)
    write_table(folder.root / CONFUSION_CHANGES, outputs.confusion_changes, CONFUSION_COLUMNS)
    if outputs.subgroups is not None:
        write_table(folder.root / SUBGROUPS, outputs.subgroups, SUBGROUP_COLUMNS)


def read_summary(root: Path) -> Any:
    return read_json(StatsFolder(Path(root)).summary(), WRITER)


def read_per_class(root: Path, config: str) -> list[dict[str, Any]]:
    return read_table(StatsFolder(Path(root)).per_class(config), TEXT, WRITER)


def read_confusion_diff(root: Path, config: str) -> np.ndarray:
    """(K, K) the config's mean confusion minus the dense population's, rows the true classes."""
    return read_npy(StatsFolder(Path(root)).confusion("diff", config), writer=WRITER)


def read_confusion_changes(root: Path) -> list[dict[str, Any]]:
    return read_table(Path(root) / CONFUSION_CHANGES, TEXT, WRITER)
