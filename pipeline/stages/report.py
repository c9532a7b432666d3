"""Stage ``report``: the cross-config report (SPEC section 12).

Writes:
  --metrics  reports/metrics.json: one entry per config, so that ``dvc exp show`` lists
             ``<config>.top1_drop`` and friends as columns and ``dvc metrics diff`` compares experiments.
             Numbers come from the predict summaries (size, sparsity), the ``stats`` and ``pie`` stages, and
             each config's ``saliency``, ``robustness`` and ``representations`` summaries (saliency MAD and
             its dense-vs-dense floor, mCE, the PIE rate under corruption, last-layer CKA and its floor).
  --html     reports/index.html: one self-contained page a person reads in a browser (pipeline/report/page.py)
  --figures  its images: figures drawn here and the stages' galleries, saliency examples and activation
             maximizations, copied (the folder is replaced as a whole on success)
  --plots    the tables of ``dvc plots``: compression.csv, robustness/<config>.csv, cka/<config>.csv
             (replaced as a whole on success)
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import load_params
from pipeline.io.files import atomic_path, write_json
from pipeline.stages._cli import parser, run

if TYPE_CHECKING:
    from pipeline.report.load import Inputs

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


# The keys beyond_accuracy adds; None for a config without those summaries (dense may have none).
BEYOND_KEYS = (
    "saliency_mad",
    "saliency_mad_floor",
    "mce",
    "relative_mce",
    "corrupted_top1",
    "corrupted_pie_rate",
    "cka_last",
    "cka_last_floor",
)


def metrics_of(inputs: Inputs, name: str) -> dict[str, Any]:
    """The metrics.json entry of one config."""
    out = config_metrics(inputs.predict[name], inputs.stats_of(name), inputs.pie_of(name))
    saliency, robustness = inputs.saliency[name], inputs.robustness[name]
    representations = inputs.representations[name]
    if saliency is None or robustness is None or representations is None:  # only dense may lack them
        return out | dict.fromkeys(BEYOND_KEYS)
    return out | beyond_accuracy(saliency, robustness, representations)


def main(args: argparse.Namespace) -> None:
    from pipeline.io.folders import replaced_folder
    from pipeline.report import load, page, write

    start = time.perf_counter()
    params = load_params(args.params)
    folders = load.Folders(
        predict=args.predict,
        stats=Path(args.stats),
        pie=Path(args.pie),
        saliency=args.saliency,
        robustness=args.robustness,
        representations=args.representations,
    )
    inputs = load.read_inputs(params, folders)
    metrics = {name: metrics_of(inputs, name) for name in inputs.study.configs}
    html, figures = Path(args.html), Path(args.figures)
    prefix = Path(os.path.relpath(figures.absolute(), html.absolute().parent)).as_posix()
    with replaced_folder(figures) as figures_tmp, replaced_folder(Path(args.plots)) as plots_tmp:
        images = write.write_figures(inputs, figures_tmp)
        write.write_plots(inputs, plots_tmp)
        text = page.render(inputs, {key: f"{prefix}/{name}" for key, name in images.items()})
    with atomic_path(html) as tmp:
        tmp.write_text(text, encoding="utf-8")
    write_json(Path(args.metrics), metrics)
    for name, m in metrics.items():
        log.info(
            "%-26s top-1 %s  drop %s  impacted %s/%s  PIEs %s  churn %s  size %s  "
            "saliency MAD %s  mCE %s  CKA %s",
            name,
            *(_fmt(m[key]) for key in ("top1", "top1_drop", "impacted_classes", "impacted_classes_fdr")),
            *(_fmt(m[key]) for key in ("pie_fraction", "churn", "size_ratio", "saliency_mad", "mce")),
            _fmt(m["cka_last"]),
        )
    log.info(
        "wrote %s, %s (%d images) and %s in %.1f s",
        html,
        figures,
        len(images),
        args.plots,
        time.perf_counter() - start,
    )


def _fmt(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return "n/a" if value is None else f"{value:.4f}"


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    one = "one config's folder of the {} stage, with {{config}} (e.g. data/{}/{{config}}.d)"
    p.add_argument("--predict", required=True, help=one.format("predict", "predict"))
    p.add_argument("--stats", required=True, help="the stats stage's folder")
    p.add_argument("--pie", required=True, help="the pie stage's folder")
    p.add_argument("--saliency", required=True, help=one.format("saliency", "saliency"))
    p.add_argument("--robustness", required=True, help=one.format("robustness", "robustness"))
    p.add_argument("--representations", required=True, help=one.format("representations", "representations"))
    p.add_argument("--metrics", required=True, help="output: reports/metrics.json")
    p.add_argument("--html", required=True, help="output: reports/index.html")
    p.add_argument("--figures", required=True, help="output folder of the page's images (replaced whole)")
    p.add_argument("--plots", required=True, help="output folder of the dvc plots tables (replaced whole)")
    return p


if __name__ == "__main__":
    run(main, build_parser().parse_args())
