"""Stage ``compress@config-seed``: one compression config applied to one dense member (SPEC section 5)."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from pipeline.config import CompressionConfig, ConfigError, Params, config_of, load_params, to_dict
from pipeline.io.checkpoints import save_checkpoint
from pipeline.io.prepared import load_prepared
from pipeline.runtime import configure_torch, library_versions
from pipeline.stages._cli import add_member_args, parser, resolve_member, run

log = logging.getLogger("pipeline.compress")


def check_against_data(cfg: CompressionConfig, name: str, n_train: int) -> None:
    """Rules that need the dataset's size, checked before any work."""
    if cfg.quantize is not None and cfg.quantize.calibration_size > n_train:
        raise ConfigError(
            f"compress.configs.{name}.quantize.calibration_size: {cfg.quantize.calibration_size} is larger "
            f"than the training split ({n_train} images)"
        )


def resume_file(args: argparse.Namespace, params: Params, dataset_sha256: str) -> Any:
    """The :class:`~pipeline.io.resume.ResumeFile` of this cell's fine-tuning, keyed by everything it
    depends on: the config, the seed, the dense checkpoint's bytes, the training recipe, the data and the
    loaded code (so call it once the cell's modules are imported)."""
    from pipeline.io.files import file_sha256
    from pipeline.io.resume import ResumeFile, inputs_key

    inputs = {
        "stage": "compress",
        "config": args.config,
        "seed": args.seed,
        "compression": to_dict(config_of(params, args.config)),
        "params": {name: to_dict(getattr(params, name)) for name in ("train", "runtime")},
        "dense_sha256": file_sha256(Path(args.dense)),
        "dataset_sha256": dataset_sha256,
    }
    return ResumeFile(Path(args.out), inputs_key(inputs))


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    resolve_member(args, fill=("dense", "out"))
    cfg = config_of(params, args.config)
    data = load_prepared(Path(args.data))
    check_against_data(cfg, args.config, len(data.train))
    configure_torch(params.runtime)

    import torch

    from pipeline.compression.members import load_member
    from pipeline.compression.recipe import compress_member
    from pipeline.training.loop import TrainData
    from pipeline.training.resume import resume_with

    start = time.perf_counter()
    model, dense_meta = load_member(Path(args.dense))
    train_data = TrainData.from_prepared(data)
    store = resume_file(args, params, data.sha256)
    resume = resume_with(store.load(), store.save)
    if resume.start is not None and cfg.prune is not None:
        at = f"{args.config} seed {args.seed}: resuming fine-tuning from epoch {resume.start.epoch}"
        log.info("%s/%g (state %s)", at, cfg.prune.finetune_epochs, store.path)
    model, report = compress_member(model, cfg, train_data, params.train, args.seed, resume)
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
    save_checkpoint(Path(args.out), model.state_dict(), meta)
    store.remove()  # only now: a kill before this resumes at the last fine-tuning epoch
    overall = report.get("sparsity", {}).get("overall", {}).get("sparsity", 0.0)
    log.info(
        "%s seed %d: sparsity %.4f, size ratio %.4f, %.1f s",
        *(args.config, args.seed, overall, report["size_ratio"]),
        time.perf_counter() - start,
    )


if __name__ == "__main__":
    p = parser(__doc__ or "")
    add_member_args(p, config=True, seed=True)
    p.add_argument("--data", required=True, help="folder of the prepared dataset")
    p.add_argument("--dense", required=True, help="the dense member's checkpoint")
    p.add_argument("--out", required=True, help="output: the compressed member's checkpoint")
    run(main, p.parse_args())
