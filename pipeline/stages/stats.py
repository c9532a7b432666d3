"""Stage ``stats``: every config's population against the dense population (SPEC section 7).

Writes to the output folder:
  summary.json           per config: top-1/top-5 with intervals, drop, impacted classes (raw, FDR), churn
                         and its dense-vs-dense noise floor, confidence, ECE and their changes
  per_class/<config>.csv per class: both mean recalls, the change and its interval, t, p, q, impacted
                         (raw and FDR), both populations' mean confidence and ECE
  churn.csv              per config and seed, plus every dense-vs-dense pair
  confusion/mean/<config>.npy  population-mean row-normalized confusion matrix (K x K, float64)
  confusion/diff/<config>.npy  that minus the dense population's
  confusion_changes.csv  per config, the largest increases of off-diagonal confusion against dense
  subgroups.csv          per config and attribute group (datasets with attributes only): PIE rate, top-1
                         drop, churn, against the group's share of the test set
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import load_params
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.stats")

CONFUSION_COLUMNS = [
    "config",
    "true",
    "true_name",
    "predicted",
    "predicted_name",
    "dense_rate",
    "compressed_rate",
    "change",
]


def main(args: argparse.Namespace) -> None:
    from pipeline.analysis import pie, subgroups
    from pipeline.analysis.compare import Reference, clean, config_stats, noise_floor_rows
    from pipeline.analysis.population import check_comparable, load_population, load_reference
    from pipeline.io.files import atomic_path, write_json
    from pipeline.io.folders import replaced_folder
    from pipeline.io.prepared import load_test_split
    from pipeline.io.tables import write_table

    params = load_params(args.params)
    cfg = params.stats
    test = load_test_split(Path(args.data))
    k = test.num_classes
    seeds = params.population.seeds
    columns: list[int] = []
    if test.attributes is not None or cfg.subgroup_attributes:
        columns = subgroups.select_attributes(
            test.attribute_names, cfg.subgroup_attributes, "stats.subgroup_attributes"
        )
    dense = load_reference(args.predictions, seeds, test.labels, k)
    if len(seeds) < 2:
        log.warning(
            "a population of %d member: the per-class t-test needs at least 2; no class is tested", len(seeds)
        )
    ref = Reference.build(dense, k, cfg.ece_bins)
    dense_modal = pie.modal_labels(pie.vote_counts(dense.pred, k))

    summary: dict[str, Any] = {
        "alpha": cfg.alpha,
        "fdr": cfg.fdr,
        "confidence": cfg.confidence,
        "members": len(seeds),
        "noise_floor": {
            "churn": clean(ref.noise_floor.mean()) if ref.noise_floor.size else None,
            "churn_std": clean(ref.noise_floor.std(ddof=1)) if ref.noise_floor.size > 1 else None,
            "pairs": int(ref.noise_floor.size),
        },
        "configs": {},
    }
    churn_rows = noise_floor_rows(dense, ref.noise_floor)
    confusion_rows: list[dict[str, Any]] = []
    subgroup_rows: list[dict[str, Any]] = []
    with replaced_folder(Path(args.out)) as out:
        for name in params.compress.configs:
            comp = dense if name == "dense" else load_population(args.predictions, name, seeds)
            check_comparable(dense, comp, k)
            result = config_stats(
                name,
                ref,
                comp,
                test.class_names,
                alpha=cfg.alpha,
                fdr=cfg.fdr,
                confidence=cfg.confidence,
                ece_bins=cfg.ece_bins,
                confusion_top=cfg.confusion_top,
            )
            summary["configs"][name] = result.summary
            write_table(out / "per_class" / f"{name}.csv", result.class_rows, list(result.class_rows[0]))
            churn_rows += result.churn_rows
            confusion_rows += result.confusion_rows
            for kind, matrix in (("mean", result.confusion), ("diff", result.confusion - ref.confusion)):
                with atomic_path(out / "confusion" / kind / f"{name}.npy") as tmp, tmp.open("wb") as handle:
                    np.save(handle, matrix, allow_pickle=False)
            if columns and test.attributes is not None:
                pies = pie.modal_labels(pie.vote_counts(comp.pred, k)).label != dense_modal.label
                subgroup_rows += subgroups.subgroup_rows(
                    name,
                    test.attributes[:, columns],
                    [test.attribute_names[c] for c in columns],
                    pies,
                    dense.correct,
                    comp.correct,
                    comp.pred != dense.pred,
                )
            s = result.summary
            log.info(
                "%-26s top-1 %.4f  drop %+.4f  impacted %d (FDR %d)  churn %.4f  ECE %+.4f",
                name,
                s["top1"],
                s["top1_drop"],
                s["impacted_classes"],
                s["impacted_classes_fdr"],
                s["churn"],
                s["ece_change"],
            )
        write_json(out / "summary.json", summary)
        write_table(out / "churn.csv", churn_rows, ["config", "dense_seed", "other_seed", "churn"])
        write_table(out / "confusion_changes.csv", confusion_rows, CONFUSION_COLUMNS)
        if columns:
            write_table(out / "subgroups.csv", subgroup_rows, subgroups.COLUMNS)


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--predictions", required=True, help="prediction table path with {config} and {seed}")
    p.add_argument("--data", required=True, help="folder of the prepared dataset (test labels, attributes)")
    p.add_argument("--out", required=True, help="output folder (replaced as a whole on success)")
    run(main, p.parse_args())
