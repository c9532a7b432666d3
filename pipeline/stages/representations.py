"""Stage ``representations@config``: layer-by-layer similarity of each of the config's cells to the dense
member of the same seed, and activation maximization of a few last-conv units (SPEC section 11).

On the fixed seeded sample of test images, the inputs of every conv / linear layer but the first, and the
logits (pipeline.representations.layers), flattened per example in C order (C x H x W), are compared by
linear CKA, debiased linear CKA and SVCCA with the dense members' (summarized once, with their noise floor
and the dense activation maximization, by the ``representations_reference`` stage).  The ``dense``
config's cells are the dense members: it reads the reference alone.

Writes the config's folder that pipeline/io/representations.py lays out (replaced as a whole on success):
  summary.json        per layer: means over seeds of the three similarities and the SVCCA dimensions kept,
                      and the noise floor (means over seed pairs; null with one seed); ``cka_last``, the
                      linear CKA of the logits; ``activation_max``: the first seed's maximizing images'
                      final unit activations, ``<image>_on_<member>`` (``dense_on_compressed``: the image
                      found on the dense member, shown to the compressed one: does the compressed unit
                      still respond to what the dense unit looks for?)
  per_layer.csv       per seed and layer: the similarities of the compressed member to the dense one
  activation_max.png  (representations.units > 0) the first seed's images, dense above, compressed below
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # the stage's own process only: importing this module changes nothing
    # numpy and scipy each bundle an OpenBLAS with its own pool of threads (see
    # pipeline/stages/representations_reference.py): one thread each.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import logging
from pathlib import Path

from pipeline.config import DENSE, config_of, load_params
from pipeline.io.compress import CompressFolder
from pipeline.io.prepared import load_test_split
from pipeline.io.representations import RepresentationsFolder, read_reference
from pipeline.representations.compare import check_reference, cka_line, compare_config, draw_sample
from pipeline.representations.figure import draw_activation_max
from pipeline.representations.summary import build_summary, config_line
from pipeline.runtime import configure_torch
from pipeline.stages._cli import add_item_args, parser, resolve_item, run

log = logging.getLogger("pipeline.representations")


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    resolve_item(args)
    config, cfg, seeds = args.config, params.representations, params.population.seeds
    dense_config = config_of(params, config).is_dense  # a ConfigError listing the defined configs
    configure_torch(params.runtime)
    ids, images = draw_sample(load_test_split(Path(args.prepare)).images, cfg)
    reference = read_reference(Path(args.reference))
    check_reference(reference, cfg, ids, seeds)
    folder = CompressFolder(Path(args.compress))
    # The dense config's cells are the dense members: their summaries are the reference's.
    cells = None if dense_config else {seed: folder.checkpoint(config, seed) for seed in seeds}
    rows, entry, pictures = compare_config(reference, cells, folder.checkpoint(DENSE, seeds[0]), images, cfg)
    summary = build_summary(config, ids.size, rows, reference.floor_means, entry)
    figure = None if entry is None or pictures is None else draw_activation_max(pictures, entry, config)
    RepresentationsFolder(Path(args.out)).write(config, summary, rows, figure)
    for line in [*(cka_line(config, seed, rows) for seed in seeds), config_line(config, summary)]:
        log.info(line)


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    add_item_args(p, config=True)
    p.add_argument("--prepare", required=True, help="the prepare stage's folder (the dataset)")
    p.add_argument("--compress", required=True, help="the compress stage's folder (the config's cells)")
    p.add_argument("--reference", required=True, help="the representations_reference stage's folder")
    p.add_argument("--out", required=True, help="the stage's folder; the config's own is replaced whole")
    return p


if __name__ == "__main__":
    run(main, build_parser().parse_args())
