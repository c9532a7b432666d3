"""Stage ``compress@config-seed``: one compression config applied to one member, a cell (SPEC section 5)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import config_of, load_params
from pipeline.io.compress import CompressFolder
from pipeline.io.prepared import load_prepared
from pipeline.io.train import TrainFolder
from pipeline.runtime import configure_torch
from pipeline.stages._cli import add_item_args, parser, resolve_item, run


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    add_item_args(p, config=True, seed=True)
    p.add_argument("--prepare", required=True, help="folder of the prepared dataset")
    p.add_argument("--train", required=True, help="folder of the members (data/train)")
    p.add_argument("--out", required=True, help="output folder of the cells (data/compress)")
    return p


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    resolve_item(args)
    data = load_prepared(Path(args.prepare))
    configure_torch(params.runtime)
    from pipeline.compression.cell import check_against_data, compress_seed
    from pipeline.io.checkpoints import save_checkpoint

    check_against_data(config_of(params, args.config), args.config, len(data.train))

    member = TrainFolder(Path(args.train)).checkpoint(args.seed)
    out = CompressFolder(Path(args.out)).checkpoint(args.config, args.seed)
    cell, resume = compress_seed(params, args.config, args.seed, data, member, out)
    save_checkpoint(out, cell.state, cell.meta)
    resume.remove()  # only now: a kill before this resumes at the last fine-tuning epoch


if __name__ == "__main__":
    run(main, build_parser().parse_args())
