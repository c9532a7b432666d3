"""Stage ``predict@config``: the config's population predicts on every test view (SPEC sections 6, 10).

The views are the clean test split and, for robustness, the corrupted views the ``corrupt`` stage built
once for every config (each (corruption, severity) of the ``robustness`` params applied to one fixed seeded
sample of the test split, rounded back to uint8). Writes to the output folder:
  <view>/seed_N.parquet      one table per member and view (example_id = index in the test split, label,
                             pred, p_pred, p_label, top5) and its float16 logits, seed_N.logits.npy;
                             <view> is ``clean`` or ``<corruption>-<severity>``
  summary.json               clean top-1, size ratio and sparsity per member; top-1 per member per view
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import Params, config_of, load_params
from pipeline.io.files import write_json
from pipeline.io.predictions import write_predictions
from pipeline.io.prepared import load_prepared
from pipeline.io.views import read_views
from pipeline.robustness import CLEAN_VIEW
from pipeline.runtime import configure_torch
from pipeline.stages._cli import add_member_args, parser, resolve_member, run

log = logging.getLogger("pipeline.predict")


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    resolve_member(args, fill=("members", "out"))
    config_of(params, args.config)  # a ConfigError listing the defined configs
    configure_torch(params.runtime)
    from pipeline.io.folders import replaced_folder

    with replaced_folder(Path(args.out)) as out:  # swapped in whole, once every view is written
        predict_views(args, params, out)


def predict_views(args: argparse.Namespace, params: Params, out: Path) -> None:
    """Every member's predictions on the clean and the corrupted views, and the summary, into ``out``."""
    import torch

    from pipeline.compression.load import load_model
    from pipeline.prediction import predict_logits, prediction_columns, top1
    from pipeline.progress import progress

    data = load_prepared(Path(args.data))
    images = torch.from_numpy(data.test.images)
    labels = data.test.labels
    seeds = params.population.seeds
    models, members = {}, []
    for seed in seeds:
        model, meta = load_model(Path(args.members.format(seed=seed)))
        models[seed] = model.to(memory_format=torch.channels_last)
        start = time.perf_counter()
        logits = predict_logits(models[seed], images, params.predict.batch_size)
        seconds = time.perf_counter() - start
        columns = prediction_columns(logits, labels)
        write_predictions(out / CLEAN_VIEW / f"seed_{seed}.parquet", columns, logits.numpy())
        members.append(
            {
                "seed": seed,
                "top1": top1(columns),
                "size_ratio": meta.size_ratio,
                "sparsity": meta.overall_sparsity,
            }
        )
        log.info(
            "%s seed %d: top-1 %.4f, %.0f images/s",
            args.config,
            seed,
            members[-1]["top1"],
            len(images) / seconds,
        )

    start = time.perf_counter()
    index, views = read_views(Path(args.corrupted))
    view_rows = []
    for view, corrupted in progress(views.items(), total=len(views), desc="corrupted views"):
        row: dict[str, Any] = {"view": view, "examples": int(index.size), "top1": []}
        for seed in seeds:
            logits = predict_logits(models[seed], torch.from_numpy(corrupted), params.predict.batch_size)
            columns = prediction_columns(logits, labels[index])
            columns["example_id"] = index.astype(np.int32)
            write_predictions(out / view / f"seed_{seed}.parquet", columns, logits.numpy())
            row["top1"].append(top1(columns))
        view_rows.append(row)
    if views:
        mean = float(np.mean([np.mean(r["top1"]) for r in view_rows]))
        log.info(
            "%s: %d corrupted views of %d images, mean top-1 %.4f, %.1f s",
            args.config,
            len(views),
            view_rows[0]["examples"],
            mean,
            time.perf_counter() - start,
        )
    summary = {"config": args.config, "view": CLEAN_VIEW, "members": members, "views": view_rows}
    write_json(out / "summary.json", summary)


if __name__ == "__main__":
    p = parser(__doc__ or "")
    add_member_args(p, config=True)
    p.add_argument("--data", required=True, help="folder of the prepared dataset")
    p.add_argument("--members", required=True, help="checkpoint path pattern with {seed}")
    p.add_argument("--corrupted", required=True, help="the corrupt stage's folder of corrupted test views")
    p.add_argument("--out", required=True, help="output folder: <view>/seed_N.parquet, summary.json")
    run(main, p.parse_args())
