"""Stage ``train@seed``: train one dense member and checkpoint it (SPEC section 3)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import load_params
from pipeline.io.prepared import load_prepared
from pipeline.io.train import TrainFolder
from pipeline.runtime import configure_torch
from pipeline.stages._cli import add_item_args, parser, resolve_item, run


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    add_item_args(p, seed=True)
    p.add_argument("--prepare", required=True, help="folder of the prepared dataset")
    p.add_argument("--out", required=True, help="output folder of the members (data/train)")
    p.add_argument("--history", required=True, help="output folder of the per-epoch CSVs (a DVC plot)")
    return p


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    resolve_item(args)
    folder = TrainFolder(Path(args.out), Path(args.history))
    device = configure_torch(params.runtime)
    from pipeline.training.member import train_seed

    data = load_prepared(Path(args.prepare))
    member, resume = train_seed(params, args.seed, data, device, folder.checkpoint(args.seed))
    folder.write(args.seed, member.state, member.meta, member.history, member.metrics)
    resume.remove()  # only now: a kill before this resumes at the last epoch and writes the outputs again


if __name__ == "__main__":
    run(main, build_parser().parse_args())
