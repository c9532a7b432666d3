"""Stage ``saliency@config``: how far the config's saliency maps move from the dense members' (SPEC
section 9, Schwaiger et al.).

Each cell of the config (one per seed) explains the fixed, seeded sample of test images with respect to
their true labels, by ``saliency.method``, and is compared with the dense member of its seed, whose maps
and noise floor the ``saliency_reference`` stage computed once.  The ``dense`` config's cells are the
dense members: it reads the reference alone.

Writes the config's folder that pipeline/io/saliency.py lays out (replaced as a whole on success):
  summary.json   config, method, sample size, members, whether the maps pass through a straight-through
                 estimator (and a note saying so), the four measures (mad, signed, spearman, top_overlap)
                 averaged over seeds and images, per seed, and for the noise floor, and mad over floor mad
  per_image.csv  seed x sample image: example id, true label, the four measures
  examples.png   first seed, first ``saliency.examples`` images: image, dense map, compressed map and their
                 difference (not written when ``saliency.examples`` is 0)
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.config import config_of, load_params
from pipeline.io.compress import CompressFolder
from pipeline.io.prepared import load_test_split
from pipeline.io.saliency import SaliencyFolder, read_reference
from pipeline.runtime import configure_torch
from pipeline.saliency.figure import config_examples
from pipeline.saliency.metrics import compare
from pipeline.saliency.population import check_reference, draw_sample, population_maps
from pipeline.saliency.summary import build_summary, image_rows, log_lines
from pipeline.stages._cli import add_item_args, parser, resolve_item, run

log = logging.getLogger("pipeline.saliency")


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    resolve_item(args)
    config, cfg, seeds = args.config, params.saliency, params.population.seeds
    dense_config = config_of(params, config).is_dense  # a ConfigError listing the defined configs
    configure_torch(params.runtime)
    test = load_test_split(Path(args.prepare))
    sample = draw_sample(test.images, test.labels, cfg)
    reference = read_reference(Path(args.reference))
    check_reference(reference, Path(args.reference), cfg, sample.ids, seeds)
    cells = {seed: CompressFolder(Path(args.compress)).checkpoint(config, seed) for seed in seeds}
    # The dense config's cells are the dense members: their maps are the reference's.
    maps, through = (reference.maps, False) if dense_config else population_maps(cells, sample, cfg)
    per_seed = {seed: compare(reference.maps[seed], maps[seed]) for seed in seeds}
    summary = build_summary(config, cfg.method, sample.ids.size, per_seed, reference.floor, through)
    first, names = seeds[0], [test.class_names[c] for c in sample.labels]
    examples = (
        config_examples(cfg, sample.images, reference.maps[first], maps[first], names, config, first)
        if cfg.examples
        else None
    )
    rows = image_rows(per_seed, sample.ids, sample.labels, test.class_names)
    SaliencyFolder(Path(args.out)).write(config, summary, rows, examples)
    for line in log_lines(config, per_seed, summary):
        log.info(line)


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    add_item_args(p, config=True)
    p.add_argument("--prepare", required=True, help="the prepare stage's folder (the dataset)")
    p.add_argument("--compress", required=True, help="the compress stage's folder (the config's cells)")
    p.add_argument("--reference", required=True, help="the saliency_reference stage's folder")
    p.add_argument("--out", required=True, help="the stage's folder; the config's own is replaced whole")
    return p


if __name__ == "__main__":
    run(main, build_parser().parse_args())
