"""The report stage's command line: the folders of the stages it reads and its one output folder
(the metrics themselves: tests/report/test_metrics.py; the stage end to end: tests/report/test_stage.py)."""

from __future__ import annotations

import pytest

from pipeline.stages.report import build_parser

STAGES = ("predict", "stats", "pie", "saliency", "robustness", "representations")


def test_cli_takes_the_stage_folders_and_one_output_folder() -> None:
    folders = [a for name in STAGES for a in (f"--{name}", f"data/{name}")]
    args = build_parser().parse_args([*folders, "--out", "reports"])
    assert (args.predict, args.robustness, args.out, args.params) == (
        "data/predict",
        "data/robustness",
        "reports",
        "params.yaml",
    )
    for i in range(0, len(folders), 2):  # every stage's folder is required, and so is the output folder
        with pytest.raises(SystemExit):
            build_parser().parse_args([*folders[:i], *folders[i + 2 :], "--out", "reports"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(folders)
