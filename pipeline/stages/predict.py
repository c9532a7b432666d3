"""Stage ``predict@config``: the config's population predicts on every test view (SPEC sections 6, 10).

The views are the clean test split and, for robustness, the corrupted views the ``corrupt`` stage built
once for every config. Writes two folders (layout: :mod:`pipeline.io.predictions`), each swapped in whole:
  clean/<config>.d/      seed_N.parquet (one prediction table per member) and its float16 logits,
                         seed_N.logits.npy; summary.json: clean top-1, size ratio and sparsity per member
  corrupted/<config>.d/  <view>/seed_N.parquet and .logits.npy for every corrupted view
                         ``<corruption>-<severity>``; summary.json: top-1 per member per view
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import config_of, load_params
from pipeline.io.compress import CompressFolder
from pipeline.io.folders import replaced_folder
from pipeline.io.predictions import (
    ConfigPredictions,
    PredictFolder,
    write_clean_summary,
    write_corrupted_summary,
)
from pipeline.io.prepared import load_prepared
from pipeline.io.views import read_views
from pipeline.runtime import configure_torch
from pipeline.stages._cli import add_item_args, parser, resolve_item, run


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    resolve_item(args)
    config_of(params, args.config)  # a ConfigError listing the defined configs
    configure_torch(params.runtime)
    from pipeline.prediction import load_cells, predict_clean, predict_corrupted

    test = load_prepared(Path(args.prepare)).test
    index, views = read_views(Path(args.corrupt))
    compress, seeds = CompressFolder(Path(args.compress)), params.population.seeds
    cells = load_cells({seed: compress.checkpoint(args.config, seed) for seed in seeds})
    batch, target = params.predict.batch_size, PredictFolder(Path(args.out)).config(args.config)
    with replaced_folder(target.clean) as clean, replaced_folder(target.corrupted) as corrupted:
        out = ConfigPredictions(clean, corrupted)  # both swapped in once every table is written
        members = predict_clean(args.config, cells, test.images, test.labels, batch, out.write_table)
        write_clean_summary(out, args.config, members)
        models = {seed: model for seed, (model, _) in cells.items()}
        rows = predict_corrupted(args.config, models, index, views, test.labels, batch, out.write_table)
        write_corrupted_summary(out, args.config, rows)


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    add_item_args(p, config=True)
    p.add_argument("--prepare", required=True, help="the prepare stage's folder (the test split)")
    p.add_argument("--compress", required=True, help="the compress stage's folder (the cells' checkpoints)")
    p.add_argument("--corrupt", required=True, help="the corrupt stage's folder of corrupted test views")
    p.add_argument("--out", required=True, help="output folder: clean/<config>.d, corrupted/<config>.d")
    return p


if __name__ == "__main__":
    run(main, build_parser().parse_args())
