"""Stage ``saliency_reference``: the dense population's saliency maps and their noise floor, computed once
for every ``saliency@config`` (SPEC section 9, Schwaiger et al.).

Every dense member (the ``dense`` config's cells) explains the fixed, seeded sample of test images with
respect to their true labels, by ``saliency.method``; the noise floor compares the dense members of every
pair of seeds, image by image.  Writes the folder pipeline/io/saliency.py lays out (replaced as a whole on
success): every seed's maps, the floor's measures per pair and image, and floor.csv.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.analysis.floor import over_pairs
from pipeline.config import DENSE, load_params
from pipeline.io.compress import CompressFolder
from pipeline.io.prepared import load_test_split
from pipeline.io.saliency import DenseReference, write_reference
from pipeline.runtime import configure_torch
from pipeline.saliency.metrics import compare
from pipeline.saliency.population import draw_sample, made_with, population_maps
from pipeline.saliency.summary import floor_rows, reference_line
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.saliency")


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    cfg, seeds = params.saliency, params.population.seeds
    configure_torch(params.runtime)
    test = load_test_split(Path(args.prepare))
    sample = draw_sample(test.images, test.labels, cfg)
    cells = CompressFolder(Path(args.compress))
    maps, _ = population_maps({seed: cells.checkpoint(DENSE, seed) for seed in seeds}, sample, cfg)
    floor = over_pairs(maps, compare)
    write_reference(
        Path(args.out), DenseReference(made_with(cfg), sample.ids, maps, floor), floor_rows(floor)
    )
    log.info(reference_line(len(maps), sample.ids.size, floor))


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--prepare", required=True, help="the prepare stage's folder (the dataset)")
    p.add_argument("--compress", required=True, help="the compress stage's folder (the dense cells)")
    p.add_argument("--out", required=True, help="output folder (replaced as a whole on success)")
    return p


if __name__ == "__main__":
    run(main, build_parser().parse_args())
