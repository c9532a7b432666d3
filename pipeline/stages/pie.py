"""Stage ``pie``: pruning (compression) identified exemplars of every config on the clean test split
(SPEC section 8; the rows: pipeline/analysis/pie_tables.py). Writes to the output folder (layout:
:mod:`pipeline.io.pie`):
  summary.json         per config: PIE count and fraction, modal-label ties, top-1 of both populations
                       on PIEs and on the rest (= top-1 after removing the PIEs), PIEs each modal label
                       gets right
  per_class.csv        per config and true class: test examples, PIEs, PIE rate, share of the config's PIEs
  overlap.csv          every pair of configs: PIE set sizes, intersection, Jaccard index
  <config>/pies.csv    every PIE: example id, true label, both modal labels, their vote counts, all
                       votes of both populations, the graded score (L1 distance of the vote distributions),
                       its traits under the dense population (label issue and quality, vote agreement,
                       margin, entropy, atypicality) and its leave-one-member-out frequency as a PIE
  <config>/gallery_NNN.png  the PIEs in pie.gallery_order (up to pie.gallery_max), labels written on them
The traits come from the ``traits`` stage (computed once per dense population). summary.json also holds,
per config, how PIEs differ from the rest in them (the label-issue enrichment with its bootstrap interval;
pipeline/analysis/pie_traits.py) and how stable the PIE set is under leaving one member out.
The dense config is the reference and has no PIEs of its own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import load_params
from pipeline.stages._cli import parser, run


def main(args: argparse.Namespace) -> None:
    from pipeline.analysis import pie_tables as tables
    from pipeline.analysis.population import load_population, load_reference
    from pipeline.config import DENSE
    from pipeline.io import pie
    from pipeline.io.folders import replaced_folder
    from pipeline.io.predictions import PredictFolder
    from pipeline.io.prepared import load_test_split
    from pipeline.io.traits import read_traits

    params = load_params(args.params)
    test = load_test_split(Path(args.prepare))
    predict, seeds = PredictFolder(Path(args.predict)), params.population.seeds
    dense = tables.Votes.of(load_reference(predict, seeds, test.labels, test.num_classes), test.num_classes)
    traits = read_traits(Path(args.traits), test.labels, seeds)
    results = []
    with replaced_folder(Path(args.out)) as out:
        for name in (name for name in params.compress.configs if name != DENSE):
            result = tables.config_pies(
                dense, load_population(predict, name, seeds), test.class_names, traits
            )
            pages = tables.gallery(result, test.images, dense.population.members, params.pie)
            pie.write_config(out, name, result.rows, pages)
            results.append(result)
        class_rows = [row for result in results for row in result.class_rows]
        pie.write_study(out, tables.study_summary(dense, results), class_rows, tables.overlap_rows(results))


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--prepare", required=True, help="the prepare stage's folder (test images and labels)")
    p.add_argument("--predict", required=True, help="the predict stage's folder (clean prediction tables)")
    p.add_argument("--traits", required=True, help="the traits stage's folder (each test example's traits)")
    p.add_argument("--out", required=True, help="output folder (replaced as a whole on success)")
    return p


if __name__ == "__main__":
    run(main, build_parser().parse_args())
