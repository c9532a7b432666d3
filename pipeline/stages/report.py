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


def population_summary(member_metrics: list[dict[str, Any]]) -> dict[str, float]:
    """Mean, sample std, min and max of the members' test top-1 (std 0 for a single member)."""
    top1 = [float(m["top1"]) for m in member_metrics]
    std = statistics.stdev(top1) if len(top1) > 1 else 0.0
    return {
        "top1": statistics.fmean(top1),
        "top1_std": std,
        "top1_min": min(top1),
        "top1_max": max(top1),
        "members": len(top1),
    }


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    members = [io.read_json(Path(args.member_metrics.format(seed=s))) for s in params.population.seeds]
    dense = population_summary(members)
    io.write_json(Path(args.out), {"dense": dense})
    log.info(
        "dense population (%d members): top-1 %.4f ± %.4f", dense["members"], dense["top1"], dense["top1_std"]
    )


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--member-metrics", required=True, help="path pattern with {seed}: each member's metrics")
    p.add_argument("--out", required=True, help="output: reports/metrics.json")
    run(main, p.parse_args())
