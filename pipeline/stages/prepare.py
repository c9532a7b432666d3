"""Stage ``prepare``: make the dataset available, verify it, write the prepared form (SPEC section 3)."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from pipeline.config import load_params
from pipeline.data.prepare import prepare, source, summary_line
from pipeline.data.registry import get_loader
from pipeline.io.folders import replaced_folder
from pipeline.io.prepared import save_prepared
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.prepare")


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--raw", required=True, help="folder for the dataset's own files (downloads go here)")
    p.add_argument("--out", required=True, help="folder of the prepared dataset")
    return p


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    root, cfg = source(params.prepare, Path(args.raw))
    start = time.perf_counter()
    data = prepare(get_loader(cfg.dataset)(root, cfg), cfg.val_fraction, cfg.split_seed)
    with replaced_folder(Path(args.out)) as out:  # swapped in whole: a kill never leaves half a dataset
        save_prepared(out, data)
    log.info(summary_line(data, time.perf_counter() - start))


if __name__ == "__main__":
    run(main, build_parser().parse_args())
