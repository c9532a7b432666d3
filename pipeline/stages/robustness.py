"""Stage ``robustness@config``: the config's population against the dense population on the corrupted
test views that predict@config wrote (SPEC section 10; numbers defined in pipeline/analysis/robustness.py).

Writes to the output folder:
  summary.json   mCE and relative mCE; per corruption: family, CE, relative CE and, per severity, top-1 of
                 both populations, PIE rate and churn; the clean numbers on the same sample; the (up to 3)
                 corruptions that hurt the compressed population most (highest CE above 1)
  views.csv      one row per view (clean first): top-1 of both populations (mean and std over members),
                 error ratio, PIE rate, churn
  per_class.csv  per corruption (and ``all``: every corrupted view) and class: both populations' mean
                 recall over the corruption's severities and the change, compressed - dense; ``clean`` too
The dense config is compared with itself: CE 1, PIE rate 0. No torch: a second or two per config.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import config_of, load_params
from pipeline.stages._cli import add_member_args, parser, resolve_member, run

log = logging.getLogger("pipeline.robustness")

VIEW_COLUMNS = [
    "view",
    "corruption",
    "family",
    "severity",
    "examples",
    "top1",
    "top1_std",
    "dense_top1",
    "dense_top1_std",
    "error_ratio",
    "pie_rate",
    "churn",
]
CLASS_COLUMNS = ["corruption", "class", "class_name", "dense_recall", "compressed_recall", "change"]


def _std(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if values.size > 1 else float("nan")


def view_row(view: str, corruption: str, family: str, severity: int, examples: int, r: Any) -> dict[str, Any]:
    from pipeline.analysis.compare import clean
    from pipeline.analysis.robustness import ratio

    values = {
        "top1": r.top1.mean(),
        "top1_std": _std(r.top1),
        "dense_top1": r.dense_top1.mean(),
        "dense_top1_std": _std(r.dense_top1),
        "error_ratio": ratio(r.error, r.dense_error),
        "pie_rate": r.pie_rate,
        "churn": r.churn,
    }
    head = {
        "view": view,
        "corruption": corruption,
        "family": family,
        "severity": severity,
        "examples": examples,
    }
    return head | {key: clean(value) for key, value in values.items()}


def class_rows(corruption: str, results: list[Any], names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Mean recall per class over ``results`` (views) for both populations, and the change."""
    from pipeline.analysis.compare import clean

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


def main(args: argparse.Namespace) -> None:
    from pipeline.analysis import robustness as rob
    from pipeline.analysis.compare import clean
    from pipeline.analysis.population import PredictionsMismatch, check_comparable, load_population
    from pipeline.io.files import write_json
    from pipeline.io.folders import replaced_folder
    from pipeline.io.prepared import load_test_split
    from pipeline.io.tables import write_table
    from pipeline.robustness import CLEAN_VIEW, CORRUPTION_FAMILIES, corrupted_views, view_name

    params = load_params(args.params)
    resolve_member(args, fill=("out",))
    config_of(params, args.config)
    cfg = params.corrupt
    test = load_test_split(Path(args.data))
    k, names, seeds = test.num_classes, test.class_names, params.population.seeds

    def populations(view: str) -> tuple[Any, Any]:
        pattern = args.predictions.replace("{view}", view)
        dense = load_population(pattern, "dense", seeds)
        comp = load_population(pattern, args.config, seeds)
        check_comparable(dense, comp, k)
        return dense, comp

    by_corruption: dict[str, list[Any]] = {}
    rows: list[dict[str, Any]] = []
    sample: np.ndarray | None = None  # test-split ids of the corrupted views' images
    for name, severity in corrupted_views(cfg.corruptions, cfg.severities):
        dense, comp = populations(view_name(name, severity))
        sample = dense.example_ids if sample is None else sample
        if not np.array_equal(dense.example_ids, sample):
            raise PredictionsMismatch(f"{view_name(name, severity)}: other test images than the other views")
        result = rob.compare_view(dense, comp, k)
        by_corruption.setdefault(name, []).append(result)
        view = view_name(name, severity)
        rows.append(view_row(view, name, CORRUPTION_FAMILIES[name], severity, dense.examples, result))

    # The clean view on the corrupted views' images: the reference of the relative CE.
    dense, comp = populations(CLEAN_VIEW)
    if sample is not None:
        dense, comp = dense.subset(sample), comp.subset(sample)
    clean_view = rob.compare_view(dense, comp, k)
    n_sample = dense.examples
    rows.insert(0, view_row(CLEAN_VIEW, "none", "none", 0, n_sample, clean_view))

    per_corruption: dict[str, Any] = {}
    for name, results in by_corruption.items():
        per_corruption[name] = {
            "family": CORRUPTION_FAMILIES[name],
            "ce": clean(rob.corruption_error(results)),
            "relative_ce": clean(rob.relative_corruption_error(results, clean_view)),
            "severities": sorted(cfg.severities),
            "top1": [clean(r.top1.mean()) for r in results],
            "dense_top1": [clean(r.dense_top1.mean()) for r in results],
            "pie_rate": [clean(r.pie_rate) for r in results],
            "churn": [clean(r.churn) for r in results],
        }
    ces = {name: rob.corruption_error(results) for name, results in by_corruption.items()}
    # The corruptions that cost the compressed population more than the dense one (CE > 1), worst first.
    ranked = sorted((name for name in ces if ces[name] > 1.0), key=lambda name: -ces[name])
    every = [r for results in by_corruption.values() for r in results]
    summary = {
        "config": args.config,
        "members": len(seeds),
        "sample_size": n_sample,
        "severities": sorted(cfg.severities),
        "corruptions": list(by_corruption),
        "mce": clean(rob.mean_finite(list(ces.values()))),
        "relative_mce": clean(
            rob.mean_finite([rob.relative_corruption_error(r, clean_view) for r in by_corruption.values()])
        ),
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
        "per_corruption": per_corruption,
    }
    class_table = class_rows(CLEAN_VIEW, [clean_view], names)
    if every:
        class_table += class_rows("all", every, names)
    for name, results in by_corruption.items():
        class_table += class_rows(name, results, names)

    with replaced_folder(Path(args.out)) as out:
        write_json(out / "summary.json", summary)
        write_table(out / "views.csv", rows, VIEW_COLUMNS)
        write_table(out / "per_class.csv", class_table, CLASS_COLUMNS)
    log.info(
        "%s: mCE %s, relative mCE %s over %d corruptions x %d severities of %d images; "
        "PIE rate %s corrupted vs %s clean",
        args.config,
        _fmt(summary["mce"]),
        _fmt(summary["relative_mce"]),
        len(by_corruption),
        len(cfg.severities),
        n_sample,
        _fmt(summary["mean_pie_rate"]),
        _fmt(summary["clean"]["pie_rate"]),
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


if __name__ == "__main__":
    p = parser(__doc__ or "")
    add_member_args(p, config=True)
    p.add_argument(
        "--predictions", required=True, help="prediction table pattern with {config}, {view} and {seed}"
    )
    p.add_argument("--data", required=True, help="folder of the prepared dataset")
    p.add_argument("--out", required=True, help="output folder: summary.json, views.csv, per_class.csv")
    run(main, p.parse_args())
