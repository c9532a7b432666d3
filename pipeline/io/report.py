"""The ``report`` stage's output folder, for its writer, dvc.yaml's ``outs``/``metrics``/``plots`` (a test
keeps them in agreement) and every reader (SPEC section 12)::

    reports/metrics/<config>.json         the headline numbers of one config (HEADLINE of
                                          pipeline/report/metrics.py): DVC's metrics, so that
                                          ``dvc metrics show`` prints one row per config
    reports/results.json                  every number of every config (config -> key -> value), a
                                          plain cached output: the file the comparison tools read
    reports/index.html                    the page; its images are referenced as ``figures/<name>``
    reports/figures/<key>.png             the figures drawn and the stages' images copied (a figure key
                                          ``gallery:<config>`` becomes ``gallery_<config>.png``)
    reports/plots/compression.csv         the tables of ``dvc plots``, each with a ``config`` column (the
    reports/plots/robustness.csv          custom templates in .dvc/plots/ colour and label by it): one row
    reports/plots/cka.csv                 per config; top-1 against severity and linear CKA per layer,
                                          one row per config and severity or layer, config by config

``figures/`` and ``plots/`` are each replaced as a whole on success (pipeline/io/folders.py), so a config
removed from the study leaves no image or table behind; so is ``metrics/``. The metrics and results
files hold numbers rounded by pipeline.report.metrics.rounded, so that float noise never shows as a value or a
change. Before issue 14 one file, ``reports/metrics.json``, held every number (config -> key -> value,
the layout results.json keeps); :data:`LEGACY_RESULTS` names it for readers of older revisions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.io.files import atomic_path, write_json
from pipeline.io.folders import replaced_folder
from pipeline.io.tables import write_table

METRICS = "metrics"  # the folder of the per-config headline files (dvc.yaml's metrics)
RESULTS = "results.json"
LEGACY_RESULTS = "metrics.json"  # what results.json was called before issue 14 (the same layout)
PAGE = "index.html"
FIGURES = "figures"
PLOTS = "plots"
COMPRESSION = "compression.csv"
ROBUSTNESS = "robustness.csv"
CKA = "cka.csv"

CONFIG = "config"  # the column naming each row's config in every plot table
COMPRESSION_COLUMNS = (
    *(CONFIG, "kind", "size_ratio", "sparsity", "top1", "top1_low", "top1_high"),
    *("pie_fraction", "churn"),
)
ROBUSTNESS_COLUMNS = (CONFIG, "severity", "mean")  # the families present come between severity and mean
CKA_COLUMNS = (CONFIG, "layer_index", "layer", "linear_cka", "floor_linear_cka")


@dataclass(frozen=True)
class ReportFolder:
    """``root``: the stage's output folder (``reports``)."""

    root: Path

    def metrics(self) -> Path:
        return self.root / METRICS

    def metrics_file(self, config: str) -> Path:
        return self.metrics() / f"{config}.json"

    def results(self) -> Path:
        return self.root / RESULTS

    def legacy_results(self) -> Path:
        return self.root / LEGACY_RESULTS

    def page(self) -> Path:
        return self.root / PAGE

    def figures(self) -> Path:
        return self.root / FIGURES

    def plots(self) -> Path:
        return self.root / PLOTS


def figure_name(key: str) -> str:
    """The file name of the figure ``key`` inside ``figures/`` (``gallery:fp16`` -> ``gallery_fp16.png``)."""
    return key.replace(":", "_") + ".png"


def figure_src(name: str) -> str:
    """How the page refers to the figure file ``name``: relative to the page's folder."""
    return f"{FIGURES}/{name}"


def compression_table(plots: Path) -> Path:
    return plots / COMPRESSION


def robustness_table(plots: Path) -> Path:
    return plots / ROBUSTNESS


def cka_table(plots: Path) -> Path:
    return plots / CKA


def write_compression(plots: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    write_table(compression_table(plots), rows, COMPRESSION_COLUMNS)


def write_robustness(plots: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Every config's curves; the columns (config, severity, the families present, mean) are the first
    row's keys, which every row must have (:data:`ROBUSTNESS_COLUMNS` alone when there is no row)."""
    write_table(robustness_table(plots), rows, list(rows[0]) if rows else ROBUSTNESS_COLUMNS)


def write_cka(plots: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    write_table(cka_table(plots), rows, CKA_COLUMNS)


def write_page(folder: ReportFolder, html: str) -> None:
    with atomic_path(folder.page()) as tmp:
        tmp.write_text(html, encoding="utf-8")


def write_metrics(folder: ReportFolder, headline: Mapping[str, Mapping[str, Any]]) -> None:
    """One file per config (config -> its headline numbers), the folder replaced as a whole."""
    with replaced_folder(folder.metrics()) as tmp:
        for config, numbers in headline.items():
            write_json(tmp / f"{config}.json", numbers)


def write_results(folder: ReportFolder, results: Mapping[str, Mapping[str, Any]]) -> None:
    write_json(folder.results(), results)


def parse_results(text: str, source: str) -> dict[str, dict[str, Any]]:
    """results.json's content (config -> key -> number); ``source`` names it in the error for anything
    else (a ValueError, one line)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{source}: not JSON ({err})") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{source}: not a mapping of config -> numbers")
    return data
