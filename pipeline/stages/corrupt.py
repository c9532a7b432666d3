"""Stage ``corrupt``: the corrupted test views of the study, built once for every config (SPEC section 10).

Each (corruption, severity) of the ``robustness`` params is applied to one fixed seeded sample of the test
split and rounded back to uint8, as the published corrupted datasets store them. Every ``predict@config``
reads these files instead of corrupting the images itself, so the corruptions (and torchvision, 2 s to
import) run in one process rather than once per config. Writes to the output folder:
  index.npy       int64 test-split indices of the sample, in increasing order
  <view>.npy      uint8 (N, C, H, W) images of each view, <view> = ``<corruption>-<severity>``
  views.json      the view names in order, the sample size and seed
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import CorruptParams, load_params
from pipeline.io.prepared import load_prepared
from pipeline.io.views import write_views
from pipeline.robustness import corrupted_views, view_name
from pipeline.runtime import configure_torch
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.corrupt")


def corrupted_images(images: Any, cfg: CorruptParams) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(test-split indices of the sample, view name -> uint8 images) of every corrupted view of the study;
    ``images`` is the uint8 (N, C, H, W) test split as a torch tensor."""
    import torch

    from pipeline.progress import progress
    from pipeline.robustness.corruptions import corrupt
    from pipeline.sampling import sample_indices

    index = sample_indices(images.shape[0], cfg.sample_size, cfg.seed, "corrupt.sample_size")
    clean = images[torch.from_numpy(index)].float().div_(255.0)
    views = {}
    wanted = corrupted_views(cfg.corruptions, cfg.severities)
    for name, severity in progress(wanted, total=len(wanted), desc="corrupted views"):
        x = corrupt(clean, name, severity, cfg.seed)
        views[view_name(name, severity)] = x.mul_(255.0).round_().to(torch.uint8).numpy()
    return index, views


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    configure_torch(params.runtime)
    import torch

    data = load_prepared(Path(args.data))
    start = time.perf_counter()
    index, views = corrupted_images(torch.from_numpy(data.test.images), params.corrupt)
    cfg = params.corrupt
    write_views(Path(args.out), index, views, {"sample_size": cfg.sample_size, "seed": cfg.seed})
    log.info(
        "%d corrupted views of %d test images (seed %d), %.1f s",
        len(views),
        index.size,
        params.corrupt.seed,
        time.perf_counter() - start,
    )


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--data", required=True, help="folder of the prepared dataset")
    p.add_argument("--out", required=True, help="output folder: index.npy, <view>.npy, views.json")
    run(main, p.parse_args())
