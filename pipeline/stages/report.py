"""Stage ``report``: the cross-config report (SPEC section 12). Reads the folders of predict (the clean
summaries), stats, pie, saliency, robustness and representations; writes to the output folder (layout:
:mod:`pipeline.io.report`):
  results.json  every number of every config, rounded (pipeline/report/metrics.py); what the comparison
                tools read (python -m pipeline.tools.compare, python -m pipeline.tools.agree)
  metrics/      one file per config with its headline numbers: DVC's metrics, one row per config in
                ``dvc metrics show``; ``dvc metrics diff`` and ``dvc exp show`` compare experiments
  index.html    one self-contained page a person reads in a browser (pipeline/report/page.py)
  figures/      its images: figures drawn here and the stages' galleries, saliency examples and activation
                maximizations, copied (the folder is replaced as a whole on success)
  plots/        the tables of ``dvc plots``: compression, robustness and CKA curves (replaced as a whole)
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from pipeline.config import load_params
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.report")

INPUTS = ("predict", "stats", "pie", "saliency", "robustness", "representations")  # the stages read


def main(args: argparse.Namespace) -> None:
    from pipeline.io.report import ReportFolder
    from pipeline.report import load, metrics, write

    start = time.perf_counter()
    params = load_params(args.params)
    inputs = load.read_inputs(params, load.Folders(**{name: Path(getattr(args, name)) for name in INPUTS}))
    entries = metrics.study_metrics(inputs)
    out = ReportFolder(Path(args.out))
    images = write.write_report(out, inputs, entries)
    for name, entry in entries.items():
        log.info("%s", metrics.log_line(name, entry))
    log.info("wrote %s (%d images) in %.1f s", out.root, images, time.perf_counter() - start)


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    for name in INPUTS:
        p.add_argument(f"--{name}", required=True, help=f"the {name} stage's folder (data/{name})")
    p.add_argument("--out", required=True, help="output folder (reports)")
    return p


if __name__ == "__main__":
    run(main, build_parser().parse_args())
