"""Stage ``train@seed``: train one dense member and checkpoint it (SPEC section 3)."""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipeline import io
from pipeline.config import Params, load_params, to_dict
from pipeline.runtime import configure_torch, library_versions
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.train")

CHECKPOINT_FORMAT = 1


def checkpoint_metadata(params: Params, seed: int, data: Any, history: list[Any]) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "kind": "dense",
        "arch": params.model.arch,
        "seed": seed,
        "num_classes": data.num_classes,
        "image_shape": list(data.image_shape),
        "class_names": list(data.class_names),
        "dataset": data.name,
        "dataset_sha256": data.sha256,
        "config": {
            "data": to_dict(params.data),
            "model": to_dict(params.model),
            "train": to_dict(params.train),
        },
        "final_val_acc": history[-1].val_acc,
        "versions": library_versions(),
    }


def history_row(record: Any) -> dict[str, Any]:
    """A history row without the timing (which differs from run to run)."""
    row = asdict(record)
    row.pop("images_per_second")
    return row


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    device = configure_torch(params.train)
    import torch

    from pipeline.models.member import new_member
    from pipeline.training.loop import EpochRecord, TrainData, evaluate, train_member

    data = io.load_prepared(Path(args.data))
    train_data = TrainData.from_prepared(data)
    torch.manual_seed(args.seed)
    model = new_member(params.model.arch, data.image_shape, data.num_classes, train_data.train_images)
    model = model.to(device)
    log.info(
        "seed %d: %s on %s (%d train / %d val images), %d epochs on %s, %d threads",
        *(args.seed, params.model.arch, data.name, len(data.train), len(data.val)),
        *(params.train.epochs, device, torch.get_num_threads()),
    )

    def report(r: EpochRecord) -> None:
        log.info("seed %d epoch %d/%d: %s", args.seed, r.epoch, params.train.epochs, r.summary())

    start = time.perf_counter()
    history = train_member(model, train_data, params.train, args.seed, report)
    seconds = time.perf_counter() - start
    test = torch.from_numpy(data.test.images), torch.from_numpy(data.test.labels)
    _, test_acc = evaluate(model, *test, params.train.eval_batch_size)
    model = model.to("cpu").to(memory_format=torch.contiguous_format)
    meta = checkpoint_metadata(params, args.seed, data, history)
    io.save_checkpoint(Path(args.checkpoint), model.state_dict(), meta)
    io.write_csv(Path(args.history), [history_row(r) for r in history])
    # Timings go to the log only: outputs must be byte-identical when re-run.
    io.write_json(Path(args.metrics), {"seed": args.seed, "top1": test_acc, "val_top1": history[-1].val_acc})
    rate = sum(r.images_per_second for r in history) / len(history)
    log.info(
        "seed %d: test top-1 %.4f; %.0f s in all, %.0f training img/s", args.seed, test_acc, seconds, rate
    )


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--seed", type=int, required=True, help="the member's seed")
    p.add_argument("--data", required=True, help="folder of the prepared dataset")
    p.add_argument("--checkpoint", required=True, help="output: safetensors checkpoint")
    p.add_argument("--history", required=True, help="output: per-epoch CSV (a DVC plot)")
    p.add_argument("--metrics", required=True, help="output: the member's JSON metrics")
    run(main, p.parse_args())
