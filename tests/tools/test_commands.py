"""The commands (pipeline/tools/compare.py, agree.py) and the reader they share (pipeline/io/revisions.py)
on a tiny real Git + DVC repository: a stage writes results.json from a param; two commits, an experiment.
No mock of DVC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.io.report import ReportFolder
from pipeline.io.revisions import read_results
from pipeline.tools import agree, compare

# The stage: a population of three members whose top-1 is `shift` + fixed noise; churn without spread.
WRITE = """\
import json, statistics, sys
shift = float(open("shift.txt").read())
members = [shift + d for d in (0.001, -0.002, 0.0015)]
numbers = {"members": 3, "top1": round(statistics.fmean(members), 6),
           "top1_std": round(statistics.stdev(members), 6), "churn": 0.05, "churn_std": 0.0}
json.dump({"dense": numbers, "magnitude_90": numbers}, open("reports/results.json", "w"))
"""
DVC_YAML = """\
stages:
  report:
    cmd: python write.py
    deps: [write.py, shift.txt]
    outs: [reports/results.json]
"""


def sh(cwd: Path, *args: str) -> str:
    env = os.environ | {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "DVC_NO_ANALYTICS": "1"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    dvc = [sys.executable, "-m", "dvc"] if args[0] == "dvc" else []
    cmd = [*dvc, *args[1:]] if dvc else list(args)
    return subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Commits `v1` (shift 0.9) and `v2` (0.8), experiment `back` (0.9001) on v2; workspace at v2."""
    root = tmp_path_factory.mktemp("repo")
    sh(root, "git", "init", "-q", "-b", "main")
    sh(root, "dvc", "init", "-q")
    (root / "reports").mkdir()
    (root / "write.py").write_text(WRITE)
    (root / "dvc.yaml").write_text(DVC_YAML)
    for tag, shift in (("v1", "0.9"), ("v2", "0.8")):
        (root / "shift.txt").write_text(shift)
        sh(root, "dvc", "repro", "-q")
        sh(root, "git", "add", "-A")
        sh(root, "git", "commit", "-qm", tag)
        sh(root, "git", "tag", tag)
    (root / "shift.txt").write_text("0.9001")
    sh(root, "dvc", "exp", "run", "-q", "-n", "back")
    sh(root, "git", "checkout", "-q", "--", ".")
    sh(root, "dvc", "checkout", "-q")
    return root


def test_results_are_read_at_a_commit_an_experiment_and_the_workspace(repo: Path) -> None:
    folder = ReportFolder(Path("reports"))
    top1 = {rev: read_results(rev, folder, str(repo))["dense"]["top1"] for rev in ("v1", "back", "workspace")}
    assert top1 == {"v1": 0.900167, "back": 0.900267, "workspace": 0.800167}


def test_an_unknown_revision_is_named_with_the_known_ones(repo: Path) -> None:
    with pytest.raises(ValueError, match=r"^unknown revision or experiment 'v3'; .*tags: v1, v2; .*back"):
        read_results("v3", ReportFolder(Path("reports")), str(repo))


def test_compare_prints_revisions_by_configs(repo: Path) -> None:
    out = compare.main(
        ["v1", "--exps", "--configs", "mag*", "--metrics", "top1", "churn", "--repo", str(repo)]
    )
    assert out.splitlines() == [
        "revision  config          top1   churn",
        "v1        magnitude_90  0.9002  0.0500",
        "back      magnitude_90  0.9003  0.0500",
    ]
    with pytest.raises(ValueError, match=r"^unknown metric 'pie'; metrics: members, top1, "):
        compare.main(["v1", "--metrics", "pie", "--repo", str(repo)])


def test_agree_accepts_a_rerun_of_the_population_and_flags_a_shifted_one(repo: Path) -> None:
    text, ok = agree.main(["--ours", "back", "--against", "v1", "--repo", str(repo)])
    assert ok and text.rstrip().endswith("all agree: Welch 98.75% intervals (4 tests, alpha 0.05)")
    text, ok = agree.main(["--against", "v1", "--repo", str(repo)])  # the workspace: v2, 0.1 lower
    assert not ok and "dense         top1" in text and "DISAGREE" in text
    assert "2 of 4 disagree" in text  # top-1 of both configs; churn is the same
    assert json.loads((repo / "reports/results.json").read_text())["dense"]["members"] == 3


def test_the_commands_default_to_the_report_stages_folder() -> None:
    import shlex

    import yaml

    from ..conftest import REPO

    cmd = shlex.split(yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["report"]["cmd"])
    out = cmd[cmd.index("--out") + 1]
    assert compare.build_parser().parse_args([]).reports == out
    assert agree.build_parser().parse_args(["--against", "main"]).reports == out
