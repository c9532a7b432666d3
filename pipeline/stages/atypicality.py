"""Stage ``atypicality``: each clean test example's atypicality in every dense member's penultimate
representation (the input of its classifier; pipeline/representations/penultimate.py): its distance to
its class's centroid in units of the class's median such distance, measured in each member's own space
(pipeline/analysis/pie_traits.py). The one model run the PIE characterization needs (label issues and
uncertainty come from the stored logits); the ``traits`` stage averages it over the members. Writes the
folder pipeline/io/atypicality.py lays out (replaced as a whole on success):
  atypicality.json   the classifier layer, the width, the examples, the seeds and each array's SHA-256
  seed_N.npy         (N,) float32, the dense member of seed N
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import DENSE, load_params
from pipeline.io.atypicality import write_atypicality
from pipeline.io.compress import CompressFolder
from pipeline.io.prepared import load_test_split
from pipeline.runtime import configure_torch
from pipeline.stages._cli import parser, run


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    device = configure_torch(params.runtime)
    from pipeline.representations.penultimate import population_atypicality

    test = load_test_split(Path(args.prepare))
    cells = CompressFolder(Path(args.compress))
    checkpoints = {seed: cells.checkpoint(DENSE, seed) for seed in params.population.seeds}
    batch = params.predict.batch_size
    layer, width, arrays = population_atypicality(checkpoints, test.images, test.labels, batch, device)
    write_atypicality(Path(args.out), layer, width, arrays)


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--prepare", required=True, help="the prepare stage's folder (the test split)")
    p.add_argument("--compress", required=True, help="the compress stage's folder (the dense cells)")
    p.add_argument("--out", required=True, help="output folder (replaced as a whole on success)")
    return p


if __name__ == "__main__":
    run(main, build_parser().parse_args())
