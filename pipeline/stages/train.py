"""Stage ``train@seed``: train one dense member and checkpoint it (SPEC section 3)."""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipeline.config import ConfigError, Params, load_params, to_dict
from pipeline.io.checkpoints import save_checkpoint
from pipeline.io.files import write_csv, write_json
from pipeline.io.prepared import load_prepared
from pipeline.runtime import configure_torch, library_versions
from pipeline.stages._cli import add_member_args, parser, resolve_member, run

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
            "prepare": to_dict(params.prepare),
            "model": to_dict(params.model),
            "train": to_dict(params.train),
            "runtime": to_dict(params.runtime),
        },
        "final_val_acc": history[-1].val_acc,
        "versions": library_versions(),
    }


def history_row(record: Any) -> dict[str, Any]:
    """A history row without the timing (which differs from run to run)."""
    row = asdict(record)
    row.pop("images_per_second")
    return row


def resume_file(params: Params, seed: int, dataset_sha256: str, checkpoint: Path) -> Any:
    """The :class:`~pipeline.io.resume.ResumeFile` of this member, keyed by everything its training
    depends on: the params sections it reads, the seed, the prepared data, the library versions and the
    loaded code (so call it once the model is built: its modules are loaded)."""
    from pipeline.io.resume import ResumeFile, inputs_key

    sections = {name: to_dict(getattr(params, name)) for name in ("prepare", "model", "train", "runtime")}
    inputs = {"stage": "train", "seed": seed, "params": sections, "dataset_sha256": dataset_sha256}
    return ResumeFile(checkpoint, inputs_key(inputs))


def write_outputs(
    args: argparse.Namespace,
    state: dict[str, Any],
    meta: dict[str, Any],
    history: list[dict[str, Any]],
    metrics: dict[str, Any],
) -> None:
    """The three outputs, each written atomically, the checkpoint removed first and written last.

    Under ``dvc repro`` the order is safe anyway: DVC removes all three before the stage starts and records
    them only once it exits 0, so after a kill anywhere here the next ``dvc repro`` finds the stage changed
    and runs it again (which resumes at the last epoch and rewrites all three). Run by hand, the
    checkpoint is the commit: removed before its siblings are replaced and written after them, a
    checkpoint on disk always has its own run's history and metrics beside it, and ``compress`` (which
    reads only the checkpoint) never pairs a new history with an old model."""
    checkpoint = Path(args.checkpoint)
    checkpoint.unlink(missing_ok=True)
    write_csv(Path(args.history), history)
    write_json(Path(args.metrics), metrics)
    save_checkpoint(checkpoint, state, meta)


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    resolve_member(args, fill=("checkpoint", "history", "metrics"))
    device = configure_torch(params.runtime)
    import torch

    from pipeline.models.member import new_member
    from pipeline.training.loop import EpochRecord, TrainData, evaluate, train_member
    from pipeline.training.resume import resume_with

    data = load_prepared(Path(args.data))
    if params.train.batch_size > len(data.train):  # batches would silently hold the whole split
        n = len(data.train)
        raise ConfigError(f"train.batch_size: {params.train.batch_size} is more than the {n} training images")
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
    store = resume_file(params, args.seed, data.sha256, Path(args.checkpoint))
    resume = resume_with(store.load(), store.save)
    if resume.start is not None:
        epochs = f"{resume.start.epoch}/{params.train.epochs}"
        log.info("seed %d: resuming from epoch %s (state %s)", args.seed, epochs, store.path)
    history = train_member(model, train_data, params.train, args.seed, report, resume)
    seconds = time.perf_counter() - start
    test = torch.from_numpy(data.test.images), torch.from_numpy(data.test.labels)
    _, test_acc = evaluate(model, *test, params.train.eval_batch_size)
    model = model.to("cpu").to(memory_format=torch.contiguous_format)
    meta = checkpoint_metadata(params, args.seed, data, history)
    # Timings go to the log only: outputs must be byte-identical when re-run.
    metrics = {"seed": args.seed, "top1": test_acc, "val_top1": history[-1].val_acc}
    write_outputs(args, model.state_dict(), meta, [history_row(r) for r in history], metrics)
    store.remove()  # only now: a kill before this resumes at the last epoch and writes the outputs again
    rate = sum(r.images_per_second for r in history) / len(history)
    log.info(
        "seed %d: test top-1 %.4f; %.0f s in all, %.0f training img/s", args.seed, test_acc, seconds, rate
    )


if __name__ == "__main__":
    p = parser(__doc__ or "")
    add_member_args(p, seed=True)
    p.add_argument("--data", required=True, help="folder of the prepared dataset")
    p.add_argument("--checkpoint", required=True, help="output: safetensors checkpoint")
    p.add_argument("--history", required=True, help="output: per-epoch CSV (a DVC plot)")
    p.add_argument("--metrics", required=True, help="output: the member's JSON metrics")
    run(main, p.parse_args())
