"""Stage ``prepare``: make the dataset available, verify it, write the prepared form (SPEC section 3)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from pathlib import Path

from pipeline.config import ConfigError, load_params
from pipeline.data.prepare import prepare
from pipeline.data.registry import get_loader
from pipeline.io.prepared import save_prepared
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.prepare")


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    cfg = params.prepare
    root = Path(cfg.root) if cfg.root is not None else Path(args.raw)
    if cfg.root is not None and not root.is_dir():
        # a typo must not make a new folder that torchvision then fills with a download
        raise ConfigError(
            f"prepare.root: no folder {cfg.root!r}; use null for data/raw, or an existing folder"
        )
    if cfg.root is not None:  # a folder of the user's is only read: a download goes to data/raw alone
        cfg = dataclasses.replace(cfg, allow_download=False)
    start = time.perf_counter()
    raw = get_loader(cfg.dataset)(root, cfg)
    data = prepare(raw, cfg.val_fraction, cfg.split_seed)
    from pipeline.io.folders import replaced_folder

    with replaced_folder(Path(args.out)) as out:  # swapped in whole: a kill never leaves half a dataset
        save_prepared(out, data)
    sizes = ", ".join(f"{name} {len(data.split(name))}" for name in ("train", "val", "test"))
    log.info(
        "%s from %s: %s images of %s, %d classes, sha256 %s… (%.1f s)",
        data.name,
        data.source,
        sizes,
        "x".join(map(str, data.image_shape)),
        data.num_classes,
        data.sha256[:12],
        time.perf_counter() - start,
    )


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--raw", required=True, help="folder for the dataset's own files (downloads go here)")
    p.add_argument("--out", required=True, help="folder of the prepared dataset")
    run(main, p.parse_args())
