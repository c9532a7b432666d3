"""Stage ``robustness``: every config's population against the dense population on the corrupted test
views that ``corrupt`` wrote and ``predict@config`` predicted on (SPEC section 10; numbers defined in
pipeline/analysis/robustness.py). Writes, per config, to ``<out>/<config>/`` (layout:
:mod:`pipeline.io.robustness`):
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
from pathlib import Path

from pipeline.config import load_params
from pipeline.stages._cli import parser, run


def main(args: argparse.Namespace) -> None:
    from pipeline.analysis.population import load_views
    from pipeline.analysis.robustness import config_robustness
    from pipeline.config import DENSE
    from pipeline.io import robustness
    from pipeline.io.folders import replaced_folder
    from pipeline.io.predictions import PredictFolder
    from pipeline.io.prepared import load_test_split
    from pipeline.io.views import read_view_names

    params = load_params(args.params)
    names = load_test_split(Path(args.prepare)).class_names
    views = read_view_names(Path(args.corrupt))  # the views the corrupt stage wrote, in its order
    predict, seeds = PredictFolder(Path(args.predict)), params.population.seeds
    dense = load_views(predict, DENSE, seeds, views)
    with replaced_folder(Path(args.out)) as out:
        for config in params.compress.configs:
            comp = dense if config == DENSE else load_views(predict, config, seeds, views)
            result = config_robustness(config, dense, comp, views, names)
            robustness.write_config(out, config, result.summary, result.view_rows, result.class_rows)


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--prepare", required=True, help="the prepare stage's folder (the class names)")
    p.add_argument("--corrupt", required=True, help="the corrupt stage's folder (views.json: the views)")
    p.add_argument("--predict", required=True, help="the predict stage's folder (every view's tables)")
    p.add_argument(
        "--out", required=True, help="output folder: <config>/summary.json, views.csv, per_class.csv"
    )
    return p


if __name__ == "__main__":
    run(main, build_parser().parse_args())
