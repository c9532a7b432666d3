"""Stage ``stats``: every config's population against the dense population on the clean test split
(SPEC section 7; the numbers: pipeline/analysis/compare.py). Writes to the output folder (layout:
:mod:`pipeline.io.stats`):
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
from pathlib import Path

from pipeline.config import load_params
from pipeline.stages._cli import parser, run


def main(args: argparse.Namespace) -> None:
    from pipeline.analysis.compare import Reference, study_stats
    from pipeline.analysis.population import load_population, load_reference
    from pipeline.config import DENSE
    from pipeline.io.folders import replaced_folder
    from pipeline.io.predictions import PredictFolder
    from pipeline.io.prepared import load_test_split
    from pipeline.io.stats import write_stats

    params = load_params(args.params)
    test = load_test_split(Path(args.prepare))
    predict, seeds = PredictFolder(Path(args.predict)), params.population.seeds
    dense = load_reference(predict, seeds, test.labels, test.num_classes)
    ref = Reference.build(dense, test.num_classes, params.stats.ece_bins)
    populations = (
        dense if name == DENSE else load_population(predict, name, seeds) for name in params.compress.configs
    )
    outputs = study_stats(ref, populations, test, params.stats)
    with replaced_folder(Path(args.out)) as out:
        write_stats(out, outputs)


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--prepare", required=True, help="the prepare stage's folder (test labels, attributes)")
    p.add_argument("--predict", required=True, help="the predict stage's folder (clean prediction tables)")
    p.add_argument("--out", required=True, help="output folder (replaced as a whole on success)")
    return p


if __name__ == "__main__":
    run(main, build_parser().parse_args())
