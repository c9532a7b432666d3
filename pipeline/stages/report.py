"""Stage ``report``: cross-config metrics into reports/metrics.json (SPEC section 12)."""

from __future__ import annotations

import argparse
import logging
import statistics
from pathlib import Path
from typing import Any

from pipeline import io
from pipeline.config import load_params
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.report")


def population_summary(members: list[dict[str, Any]]) -> dict[str, float]:
    """Mean, sample std, min and max of the members' test top-1 (std 0 for a single member)."""
    top1 = [float(m["top1"]) for m in members]
    std = statistics.stdev(top1) if len(top1) > 1 else 0.0
    return {
        "top1": statistics.fmean(top1),
        "top1_std": std,
        "top1_min": min(top1),
        "top1_max": max(top1),
        "members": len(top1),
    }


def config_metrics(members: list[dict[str, Any]], dense_top1: float) -> dict[str, float]:
    """A config's population summary, its drop against dense, its mean size ratio and sparsity."""
    summary = population_summary(members)
    size_ratio = statistics.fmean(float(m["size_ratio"]) for m in members)
    return summary | {
        "top1_drop": dense_top1 - summary["top1"],
        "size_ratio": size_ratio,
        "compression_ratio": 1.0 / size_ratio,
        "sparsity": statistics.fmean(float(m["sparsity"]) for m in members),
    }


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    summaries = {
        name: io.read_json(Path(args.summary.format(config=name))) for name in params.compress.configs
    }
    dense_top1 = population_summary(summaries["dense"]["members"])["top1"]
    metrics = {name: config_metrics(s["members"], dense_top1) for name, s in summaries.items()}
    io.write_json(Path(args.out), metrics)
    for name, m in metrics.items():
        log.info(
            "%-26s top-1 %.4f ± %.4f  drop %+.4f  size %.3f",
            name,
            m["top1"],
            m["top1_std"],
            m["top1_drop"],
            m["size_ratio"],
        )


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--summary", required=True, help="path pattern with {config}: each predict summary.json")
    p.add_argument("--out", required=True, help="output: reports/metrics.json")
    run(main, p.parse_args())
