"""Configs x headline metrics of any revisions or experiments, the table a researcher pastes into a paper:

    python -m pipeline.tools.compare main magnitude-90-finetune-1 --configs 'magnitude_*' --format md
    python -m pipeline.tools.compare workspace --exps --metrics top1 top1_std top1_low top1_high

A row per (revision, config), a column per metric; the numbers are results.json's (the report stage's,
pipeline/io/report.py), read through DVC at each revision (pipeline/io/revisions.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline.io.report import ReportFolder
from pipeline.io.revisions import WORKSPACE, experiments, read_results
from pipeline.tools import table


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipeline.tools.compare", description=__doc__.split("\n")[0])
    p.add_argument(
        "revs", nargs="*", help=f"Git revisions or experiment names ({WORKSPACE}: the working tree)"
    )
    p.add_argument("--exps", action="store_true", help="add every experiment of the workspace's baseline")
    p.add_argument("--configs", nargs="+", default=[], metavar="GLOB", help="configs to show (default: all)")
    p.add_argument(
        "--metrics", nargs="+", default=[], metavar="KEY", help="results.json keys (default: headline)"
    )
    p.add_argument("--format", choices=table.FORMATS, default="text")
    p.add_argument("--digits", type=int, default=4, help="decimals in text and md (csv: as stored)")
    p.add_argument("--reports", default="reports", help="the report stage's output folder (dvc.yaml's --out)")
    p.add_argument("--repo", default=".", help="the DVC repository")
    return p


def main(argv: Sequence[str] | None = None) -> str:
    """The rendered table; a ValueError (one line) for an unknown revision, config or metric."""
    args = build_parser().parse_args(argv)
    revs = list(args.revs) or [WORKSPACE]
    if args.exps:
        revs += [name for name in experiments(args.repo) if name not in revs]
    folder = ReportFolder(Path(args.reports))
    results = {rev: read_results(rev, folder, args.repo) for rev in revs}
    configs = table.select_configs(table.configs_of(results), args.configs)
    metrics = table.select_metrics(table.keys_of(results), args.metrics)
    header = ["revision", "config", *metrics]
    return table.render(header, table.rows(results, configs, metrics), args.format, args.digits)


if __name__ == "__main__":
    try:
        sys.stdout.write(main())
    except ValueError as err:
        sys.exit(f"compare: {err}")
