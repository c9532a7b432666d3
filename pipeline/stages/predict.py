"""Stage ``predict@config``: the config's population predicts on the clean test split (SPEC section 6)."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from pipeline import io
from pipeline.config import load_params
from pipeline.io.predictions import write_predictions
from pipeline.stages._cli import parser, run
from pipeline.stages.train import configure_torch

log = logging.getLogger("pipeline.predict")

VIEW = "clean"


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    configure_torch(params.train)
    import torch

    from pipeline.compression.members import load_member
    from pipeline.prediction import predict_logits, prediction_columns, top1

    data = io.load_prepared(Path(args.data))
    images = torch.from_numpy(data.test.images)
    out = Path(args.out)
    members = []
    for seed in params.population.seeds:
        model, meta = load_member(Path(args.members.format(seed=seed)))
        model = model.to(memory_format=torch.channels_last)
        start = time.perf_counter()
        logits = predict_logits(model, images, params.predict.batch_size)
        seconds = time.perf_counter() - start
        columns = prediction_columns(logits, data.test.labels)
        write_predictions(out / VIEW / f"seed_{seed}.parquet", columns, logits.numpy())
        members.append(
            {
                "seed": seed,
                "top1": top1(columns),
                "size_ratio": meta.get("size_ratio", 1.0),
                "sparsity": meta.get("sparsity", {}).get("overall", {}).get("sparsity", 0.0),
            }
        )
        log.info(
            "%s seed %d: top-1 %.4f, %.0f images/s",
            args.config,
            seed,
            members[-1]["top1"],
            len(images) / seconds,
        )
    io.write_json(out / "summary.json", {"config": args.config, "view": VIEW, "members": members})


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--config", required=True, help="name of the compression config")
    p.add_argument("--data", required=True, help="folder of the prepared dataset")
    p.add_argument("--members", required=True, help="checkpoint path pattern with {seed}")
    p.add_argument("--out", required=True, help="output folder: <view>/seed_N.parquet, summary.json")
    run(main, p.parse_args())
