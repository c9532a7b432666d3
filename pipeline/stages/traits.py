"""Stage ``traits``: what each test example is to the dense population, computed once and read by ``pie``
(pipeline/analysis/pie_traits.py): label issues and label quality (cleanlab, on the dense members' mean
out-of-sample probabilities from their stored logits), vote agreement, margin and entropy, and
atypicality in the members' penultimate representations (from the ``atypicality`` stage, averaged over
the members). No model runs here.
Writes the folder pipeline/io/traits.py lays out (replaced as a whole on success):
  traits.parquet   per test example: example_id, label, label_issue, label_quality, agreement, margin,
                   entropy, atypicality
  traits.json      the dense seeds, the feature layer, the label-issue count, the table's SHA-256
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.config import load_params
from pipeline.errors import InputCorrupt
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.traits")


def main(args: argparse.Namespace) -> None:
    from pipeline.analysis.pie import vote_counts
    from pipeline.analysis.pie_traits import dense_traits, log_line
    from pipeline.analysis.population import load_reference, reference_logits
    from pipeline.io.ahead import read_ahead
    from pipeline.io.atypicality import META, read_atypicality
    from pipeline.io.predictions import PredictFolder
    from pipeline.io.prepared import load_test_split
    from pipeline.io.traits import write_traits

    params = load_params(args.params)
    test = load_test_split(Path(args.prepare))
    predict, seeds = PredictFolder(Path(args.predict)), params.population.seeds
    dense = load_reference(predict, seeds, test.labels, test.num_classes)
    atypicality = read_atypicality(Path(args.atypicality))
    if atypicality.examples != test.labels.shape[0]:
        raise InputCorrupt(
            f"{atypicality.root / META}: atypicality of {atypicality.examples} test examples, the test split "
            f"has {test.labels.shape[0]}; run `dvc repro atypicality`"
        )
    votes = vote_counts(dense.pred, test.num_classes)
    logits = read_ahead(reference_logits(predict, seeds))
    traits = dense_traits(logits, atypicality.arrays(seeds), test.labels, votes)
    write_traits(Path(args.out), traits, test.labels, {"seeds": list(seeds), "layer": atypicality.layer})
    log.info(log_line(traits, len(seeds), atypicality.layer))


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--prepare", required=True, help="the prepare stage's folder (test labels)")
    p.add_argument("--predict", required=True, help="the predict stage's folder (the dense clean logits)")
    p.add_argument("--atypicality", required=True, help="the atypicality stage's folder")
    p.add_argument("--out", required=True, help="output folder (replaced as a whole on success)")
    return p


if __name__ == "__main__":
    run(main, build_parser().parse_args())
