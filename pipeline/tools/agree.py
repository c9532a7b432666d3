"""Does the workspace's run agree with a committed one within the population's spread?

    python -m pipeline.tools.agree --against main

For each config and each number that is a mean over the members (top-1, top-5, churn, saliency MAD),
Welch's interval of the difference of the two population means, Bonferroni-corrected over every test
(pipeline/tools/agreement.py); exits 1 when any interval excludes 0. The committed numbers are read
through DVC (``dvc pull`` brings them from the remote), the workspace's from reports/results.json.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline.io.report import ReportFolder
from pipeline.io.revisions import WORKSPACE, read_results
from pipeline.tools import table
from pipeline.tools.agreement import Verdict, agreement


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipeline.tools.agree", description=__doc__.split("\n")[0])
    p.add_argument("--against", required=True, help="the revision or experiment to compare with")
    p.add_argument("--ours", default=WORKSPACE, help=f"the run to check (default: {WORKSPACE})")
    p.add_argument("--alpha", type=float, default=0.05, help="chance of a false disagreement, over all tests")
    p.add_argument("--format", choices=table.FORMATS, default="text")
    p.add_argument("--reports", default="reports", help="the report stage's output folder (dvc.yaml's --out)")
    p.add_argument("--repo", default=".", help="the DVC repository")
    return p


def verdict_of(v: Verdict) -> str:
    return "agree" if v.agrees else "DISAGREE"


def report(verdicts: Sequence[Verdict], fmt: str, ours: str, theirs: str, alpha: float) -> str:
    """A row per test and a closing line."""
    header = ["config", "metric", ours, theirs, "difference", "low", "high", "verdict"]
    rows = [
        [v.config, v.metric, v.ours.mean, v.theirs.mean, v.difference, v.low, v.high, verdict_of(v)]
        for v in verdicts
    ]
    out = table.render(header, rows, fmt, digits=5)
    bad = sum(not v.agrees for v in verdicts)
    n = len(verdicts)
    level = f"{100 * (1 - alpha / max(1, n)):.2f}% intervals ({n} tests, alpha {alpha})"
    verdict = f"{bad} of {len(verdicts)} disagree" if bad else "all agree"
    return out + ("" if fmt == "csv" else f"\n{verdict}: Welch {level}\n")


def main(argv: Sequence[str] | None = None) -> tuple[str, bool]:
    """The report and whether every test agrees; a ValueError (one line) for an unknown revision, or
    runs of different studies or without any number to test."""
    args = build_parser().parse_args(argv)
    folder = ReportFolder(Path(args.reports))
    ours, theirs = (read_results(rev, folder, args.repo) for rev in (args.ours, args.against))
    verdicts = agreement(ours, theirs, args.alpha)
    if not verdicts:
        raise ValueError(f"no number with a population spread at both {args.ours} and {args.against}")
    return report(verdicts, args.format, args.ours, args.against, args.alpha), all(v.agrees for v in verdicts)


if __name__ == "__main__":
    try:
        text, ok = main()
    except ValueError as err:
        sys.exit(f"agree: {err}")
    sys.stdout.write(text)
    sys.exit(0 if ok else 1)
