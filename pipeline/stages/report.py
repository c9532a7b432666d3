"""Stage ``report``: cross-config metrics into reports/metrics.json (SPEC section 12).

One entry per config, so that ``dvc exp show`` lists ``<config>.top1_drop`` and friends as columns and
``dvc metrics diff`` compares experiments.  Numbers come from the predict summaries (size, sparsity), the
``stats`` and ``pie`` stages, and each config's ``saliency``, ``robustness`` and ``representations``
summaries (saliency MAD and its dense-vs-dense floor, mCE, the PIE rate under corruption, last-layer CKA
and its floor).
"""

from __future__ import annotations

import argparse
import logging
import statistics
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline import io
from pipeline.config import load_params
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.report")

# Copied from the stats summary of each config, in this order.
STATS_KEYS = (
    "members",
    "top1",
    "top1_std",
    "top1_low",
    "top1_high",
    "top1_drop",
    "top5",
    "impacted_classes",
    "impacted_classes_fdr",
    "churn",
    "churn_noise_floor",
    "ece",
    "ece_change",
)


def size_metrics(members: list[Mapping[str, Any]]) -> dict[str, float]:
    """Mean storage size against the dense member, its inverse, and the mean achieved sparsity."""
    size_ratio = statistics.fmean(float(m["size_ratio"]) for m in members)
    return {
        "size_ratio": size_ratio,
        "compression_ratio": 1.0 / size_ratio,
        "sparsity": statistics.fmean(float(m["sparsity"]) for m in members),
    }


def config_metrics(
    predict: Mapping[str, Any], stats: Mapping[str, Any], pie: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The flat metrics of one config; the dense reference has a PIE fraction of 0 by definition."""
    out = {key: stats[key] for key in STATS_KEYS}
    out["pie_fraction"] = pie["pie_fraction"] if pie is not None else 0.0
    return out | size_metrics(predict["members"])


def beyond_accuracy(
    saliency: Mapping[str, Any], robustness: Mapping[str, Any], representations: Mapping[str, Any]
) -> dict[str, Any]:
    """Saliency, robustness and representation metrics of one config, each next to its reference."""
    last = representations["layers"][-1] if representations["layers"] else {}
    return {
        "saliency_mad": saliency["mad"],
        "saliency_mad_floor": saliency["noise_floor"]["mad"],
        "mce": robustness["mce"],
        "relative_mce": robustness["relative_mce"],
        "corrupted_top1": robustness["mean_top1"],
        "corrupted_pie_rate": robustness["mean_pie_rate"],
        "cka_last": representations["cka_last"],
        "cka_last_floor": last.get("floor_linear_cka"),
    }


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    stats = io.read_json(Path(args.stats))["configs"]
    pies = io.read_json(Path(args.pie))["configs"]
    metrics = {}
    for name in params.compress.configs:
        predict = io.read_json(Path(args.summary.format(config=name)))
        metrics[name] = config_metrics(predict, stats[name], pies.get(name))
        metrics[name] |= beyond_accuracy(
            *(
                io.read_json(Path(pattern.format(config=name)))
                for pattern in (args.saliency, args.robustness, args.representations)
            )
        )
    io.write_json(Path(args.out), metrics)
    for name, m in metrics.items():
        log.info(
            "%-26s top-1 %.4f  drop %+.4f  impacted %d/%d  PIEs %.4f  churn %.4f  size %.3f  "
            "saliency MAD %s  mCE %s  CKA %s",
            name,
            m["top1"],
            m["top1_drop"],
            m["impacted_classes"],
            m["impacted_classes_fdr"],
            m["pie_fraction"],
            m["churn"],
            m["size_ratio"],
            _fmt(m["saliency_mad"]),
            _fmt(m["mce"]),
            _fmt(m["cka_last"]),
        )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--summary", required=True, help="path pattern with {config}: each predict summary.json")
    p.add_argument("--stats", required=True, help="the stats stage's summary.json")
    p.add_argument("--pie", required=True, help="the pie stage's summary.json")
    p.add_argument("--saliency", required=True, help="path pattern with {config}: each saliency summary")
    p.add_argument("--robustness", required=True, help="path pattern with {config}: each robustness summary")
    p.add_argument(
        "--representations", required=True, help="path pattern with {config}: each representations summary"
    )
    p.add_argument("--out", required=True, help="output: reports/metrics.json")
    run(main, p.parse_args())
