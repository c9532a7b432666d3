"""Stage ``representations_reference``: the dense population's representations, their noise floor and the
dense activation maximization, computed once for every ``representations@config`` (SPEC section 11).

On the fixed seeded sample of test images, every dense member's (the ``dense`` config's cells)
representations (pipeline.representations.layers) are summarized for linear CKA, debiased linear CKA and
SVCCA; the noise floor compares the dense members of every pair of seeds, layer by layer; the first seed's
member draws units 0..``representations.units``-1 of its last conv layer.  Writes the folder
pipeline/io/representations.py lays out (replaced as a whole on success).
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # the stage's own process only: importing this module changes nothing
    # numpy and scipy each bundle an OpenBLAS with its own pool of threads.  SVCCA alternates between
    # them (numpy's QR, then scipy's SVD), and each pool's spinning workers starve the other's: on two
    # cores, ten SVCCA bases of a conv layer take 2.4 s with two threads per pool and 1.1 s with one.
    # Set before numpy loads (a setting in the environment wins); torch (MKL, OpenMP) is not affected.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import logging
from pathlib import Path

from pipeline.config import DENSE, load_params
from pipeline.io.compress import CompressFolder
from pipeline.io.prepared import load_test_split
from pipeline.io.representations import write_reference
from pipeline.representations.reference import dense_reference, reference_line
from pipeline.runtime import configure_torch
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.representations")


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    cfg, seeds = params.representations, params.population.seeds
    configure_torch(params.runtime)
    test = load_test_split(Path(args.prepare))
    cells = CompressFolder(Path(args.compress))
    stored = dense_reference({seed: cells.checkpoint(DENSE, seed) for seed in seeds}, test.images, cfg)
    write_reference(Path(args.out), stored.reference, stored.arrays, stored.floor)
    log.info(reference_line(stored.reference))


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--prepare", required=True, help="the prepare stage's folder (the dataset)")
    p.add_argument("--compress", required=True, help="the compress stage's folder (the dense cells)")
    p.add_argument("--out", required=True, help="output folder (replaced as a whole on success)")
    return p


if __name__ == "__main__":
    run(main, build_parser().parse_args())
