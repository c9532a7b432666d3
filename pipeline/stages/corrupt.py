"""Stage ``corrupt``: the corrupted test views of the study, built once for every config (SPEC section 10).

Every ``predict@config`` reads these files instead of corrupting the images itself, so the corruptions
(and torchvision, 2 s to import) run in one process rather than once per config. The output folder's
layout is :mod:`pipeline.io.views`; the views are :func:`pipeline.robustness.corrupted.corrupted_images`.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from pipeline.config import load_params
from pipeline.io.prepared import load_prepared
from pipeline.io.views import write_views
from pipeline.runtime import configure_torch
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.corrupt")


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--prepare", required=True, help="folder of the prepared dataset")
    p.add_argument("--out", required=True, help="output folder: index.npy, <view>.npy, views.json")
    return p


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    cfg = params.corrupt
    configure_torch(params.runtime)
    import torch

    from pipeline.robustness.corrupted import corrupted_images, summary_line

    data = load_prepared(Path(args.prepare))
    start = time.perf_counter()
    index, views = corrupted_images(torch.from_numpy(data.test.images), cfg)
    write_views(Path(args.out), index, views, {"sample_size": cfg.sample_size, "seed": cfg.seed})
    log.info(summary_line(index, views, cfg, time.perf_counter() - start))


if __name__ == "__main__":
    run(main, build_parser().parse_args())
