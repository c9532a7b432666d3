"""Stage ``compress@config-seed``: one compression config applied to one dense member (SPEC section 5)."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from pipeline import io
from pipeline.config import CompressionConfig, ConfigError, config_of, load_params, to_dict
from pipeline.runtime import configure_torch, library_versions
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.compress")


def check_against_data(cfg: CompressionConfig, name: str, n_train: int) -> None:
    """Rules that need the dataset's size, checked before any work."""
    if cfg.quantize is not None and cfg.quantize.calibration_size > n_train:
        raise ConfigError(
            f"compress.configs.{name}.quantize.calibration_size: {cfg.quantize.calibration_size} is larger "
            f"than the training split ({n_train} images)"
        )


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    cfg = config_of(params, args.config)
    data = io.load_prepared(Path(args.data))
    check_against_data(cfg, args.config, len(data.train))
    configure_torch(params.train)

    import torch

    from pipeline.compression.members import load_member
    from pipeline.compression.recipe import compress_member
    from pipeline.training.loop import TrainData

    start = time.perf_counter()
    model, dense_meta = load_member(Path(args.dense))
    train_data = TrainData.from_prepared(data)
    model, report = compress_member(model, cfg, train_data, params.train, args.seed)
    meta = {key: dense_meta[key] for key in ("arch", "num_classes", "image_shape", "class_names", "dataset")}
    meta |= {
        "format": dense_meta["format"],
        "kind": "compressed",
        "seed": args.seed,
        "config": args.config,
        "compression": to_dict(cfg),
        "dataset_sha256": dense_meta["dataset_sha256"],
        "dense_config": dense_meta["config"],
        "versions": library_versions(),
        **report,
    }
    model = model.to(memory_format=torch.contiguous_format)
    io.save_checkpoint(Path(args.out), model.state_dict(), meta)
    overall = report.get("sparsity", {}).get("overall", {}).get("sparsity", 0.0)
    log.info(
        "%s seed %d: sparsity %.4f, size ratio %.4f, %.1f s",
        *(args.config, args.seed, overall, report["size_ratio"]),
        time.perf_counter() - start,
    )


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--config", required=True, help="name of the compression config in params.yaml")
    p.add_argument("--seed", type=int, required=True, help="the member's seed")
    p.add_argument("--data", required=True, help="folder of the prepared dataset")
    p.add_argument("--dense", required=True, help="the dense member's checkpoint")
    p.add_argument("--out", required=True, help="output: the compressed member's checkpoint")
    run(main, p.parse_args())
