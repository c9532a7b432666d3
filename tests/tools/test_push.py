"""pipeline.tools.push on a real two-run DVC project and a folder remote: plain ``dvc push --run-cache``
leaves the outputs of a run that is not in dvc.lock behind; the command pushes them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dvc.repo import Repo

from pipeline.tools.push import Outcome, describe, main, push, push_stages, run_cache_entries

BIN = Path(sys.executable).parent
STAGE = """stages:
  make:
    cmd: python -c "import yaml; n = yaml.safe_load(open('params.yaml'))['n']; print(str(n) * 999)" > out.txt
    params: [n]
    outs: [out.txt]
"""


def run(cwd: Path, *argv: str) -> str:
    result = subprocess.run(
        [str(BIN / argv[0]) if argv[0] == "dvc" else argv[0], *argv[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": f"{BIN}:/usr/bin:/bin", "DVC_NO_ANALYTICS": "1", "HOME": str(cwd)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


DIR_STAGE = """stages:
  make:
    cmd: mkdir -p out && python -c "import yaml; print(yaml.safe_load(open('params.yaml'))['n'])" > out/n.txt
    params: [n]
    outs: [out]
"""


def two_runs(tmp_path: Path, stage: str) -> Path:
    """n=2 ran and was reverted: its run-cache entry names an output that no dvc.lock names."""
    repo = tmp_path / "repo"
    repo.mkdir()
    run(repo, "git", "init", "-q")
    run(repo, "dvc", "init", "-q")
    run(repo, "dvc", "remote", "add", "-d", "team", str(tmp_path / "remote"))
    (repo / "dvc.yaml").write_text(stage)
    (repo / "params.yaml").write_text("n: 1\n")
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "n=1")
    (repo / "params.yaml").write_text("n: 2\n")
    run(repo, "dvc", "repro")
    run(repo, "git", "checkout", "--", "params.yaml", "dvc.lock")
    run(repo, "dvc", "checkout")
    return repo


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return two_runs(tmp_path, STAGE)


def test_plain_push_leaves_a_run_behind_and_the_command_pushes_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)  # DVC builds the run-cache's stages relative to the working directory
    run(project, "dvc", "push", "--run-cache")
    with Repo(str(project)) as repo:
        assert push(repo, "team", check_only=True) == Outcome(entries=2, objects=2, missing=1, absent=0)
        assert push(repo, "team") == Outcome(entries=2, objects=2, missing=0, absent=0)
    pushed = {
        p.read_text()
        for p in (project.parent / "remote").rglob("*")
        if p.is_file() and p.stat().st_size == 1000
    }
    assert pushed == {"1" * 999 + "\n", "2" * 999 + "\n"}


def test_an_output_gone_from_the_cache_is_reported_absent(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    run(project, "dvc", "gc", "--workspace", "--force")  # removes n=2's output from the cache
    with Repo(str(project)) as repo:
        outcome = push(repo, "team")
    assert outcome == Outcome(entries=2, objects=2, missing=1, absent=1)
    assert "1 are not (1 not in this clone's cache either" in describe(outcome, "team")


def test_a_directory_whose_listing_is_gone_is_reported_and_the_rest_still_pushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = two_runs(tmp_path, DIR_STAGE)
    monkeypatch.chdir(repo)
    run(repo, "dvc", "gc", "--workspace", "--force")  # removes n=2's directory listing (.dir) and file
    with Repo(str(repo)) as dvc_repo:
        outcome = push(dvc_repo, "team")
    assert outcome.entries == 2 and outcome.unlisted == 1 and outcome.missing == 0 and outcome.objects >= 1
    assert "1 entries name a directory whose listing is neither here nor on the remote" in describe(
        outcome, "team"
    )


def test_run_cache_entries_lists_key_and_value(tmp_path: Path) -> None:
    assert list(run_cache_entries(tmp_path / "runs")) == []
    for key, value in [("bb22", "v2"), ("aa11", "v1"), ("aa11", "v0")]:
        (tmp_path / "runs" / key[:2] / key).mkdir(parents=True, exist_ok=True)
        (tmp_path / "runs" / key[:2] / key / value).write_text("")
    assert list(run_cache_entries(tmp_path / "runs")) == [("aa11", "v0"), ("aa11", "v1"), ("bb22", "v2")]


def test_describe_says_what_is_on_the_remote() -> None:
    assert (
        describe(Outcome(3, 10, 0, 0), "team")
        == "3 run-cache entries name 10 objects; 10 are on remote 'team'"
    )
    assert describe(Outcome(3, 10, 2, 0), "team").endswith("8 are on remote 'team', 2 are not")


def test_main_says_in_one_line_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--check"]) == 1
    assert capsys.readouterr().err.strip().startswith("error: NotDvcRepoError: you are not inside of a DVC")
    run(tmp_path, "git", "init", "-q")
    run(tmp_path, "dvc", "init", "-q")
    assert main(["--check"]) == 1
    assert capsys.readouterr().err.strip() == 'error: no DVC remote: add one (README "Working as a team")'
    run(tmp_path, "dvc", "remote", "add", "-d", "team", "/nonexistent/remote")
    assert main(["--check"]) == 0  # a folder remote nobody pushed to yet: nothing to check, not an error
    assert capsys.readouterr().out.strip() == "0 run-cache entries name 0 objects; 0 are on remote 'team'"


def test_push_stages_pushes_one_stage_s_entry_and_outputs_and_nothing_else(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a fan-out's worker pushes: the run-cache entry of the stage as its lock stands (n=1) and the
    output it names, not the other run's (n=2), which stays off the remote."""
    monkeypatch.chdir(project)
    with Repo(str(project)) as repo:
        outcome = push_stages(repo, ["make"], "team")
        assert outcome == Outcome(entries=1, objects=1, missing=0, absent=0)
        assert push(repo, "team", check_only=True).missing == 1  # n=2's output: not this stage's to push
    remote = project.parent / "remote"
    runs = [p for p in (remote / "runs").rglob("*") if p.is_file()]
    assert len(runs) == 1  # one entry, under the stage's key
    local = {p.name for p in (project / ".dvc/cache/runs").rglob("*") if p.is_file()}
    assert runs[0].name in local
    pushed = {p.read_text() for p in remote.rglob("*") if p.is_file() and p.stat().st_size == 1000}
    assert pushed == {"1" * 999 + "\n"}
