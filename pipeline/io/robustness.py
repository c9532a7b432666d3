"""The ``robustness`` stage's output folder, for its writer and every reader (SPEC section 10): one folder
per config (the dense config, compared with itself, included)::

    data/robustness/<config>/summary.json    mCE, relative mCE, per corruption CE and curves, clean numbers
    data/robustness/<config>/views.csv       one row per view (clean first)
    data/robustness/<config>/per_class.csv   per corruption (and clean, all) and class: recall change
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.io.files import read_json, write_json
from pipeline.io.tables import write_table

WRITER = "robustness"
SUMMARY = "summary.json"
VIEWS = "views.csv"
PER_CLASS = "per_class.csv"

VIEW_COLUMNS = [
    *("view", "corruption", "family", "severity", "examples", "top1", "top1_std"),
    *("dense_top1", "dense_top1_std", "error_ratio", "pie_rate", "churn"),
]
CLASS_COLUMNS = ["corruption", "class", "class_name", "dense_recall", "compressed_recall", "change"]


@dataclass(frozen=True)
class RobustnessFolder:
    """``root``: the stage's output folder (``data/robustness``)."""

    root: Path

    def config(self, config: str) -> Path:
        return self.root / config

    def summary(self, config: str) -> Path:
        return self.config(config) / SUMMARY


def write_config(
    root: Path,
    config: str,
    summary: Mapping[str, Any],
    view_rows: Sequence[Mapping[str, Any]],
    class_rows: Sequence[Mapping[str, Any]],
) -> None:
    """One config's three files."""
    folder = RobustnessFolder(Path(root)).config(config)
    write_json(folder / SUMMARY, summary)
    write_table(folder / VIEWS, view_rows, VIEW_COLUMNS)
    write_table(folder / PER_CLASS, class_rows, CLASS_COLUMNS)


def read_summary(root: Path, config: str) -> Any:
    """A config's summary.json; a missing or garbled one is an InputCorrupt naming it."""
    return read_json(RobustnessFolder(Path(root)).summary(config), WRITER)
