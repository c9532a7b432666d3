"""Restoring the outputs DVC removed before a stage that then failed, from DVC's cache (a real DVC repo)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.io.dvc_cache import restore_removed_outputs

BIN = Path(sys.executable).parent


def sh(cwd: Path, *argv: str) -> None:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", DVC_NO_ANALYTICS="1")
    env |= {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two stages: ``one`` writes a file, ``many`` a folder (in a family dvc.yaml with wdir ../..)."""
    root = tmp_path_factory.mktemp("repo")
    (root / "families/many").mkdir(parents=True)
    (root / "dvc.yaml").write_text(
        "stages:\n  one:\n    cmd: mkdir -p out && echo first > out/one.txt\n    outs:\n      - out/one.txt\n"
    )
    (root / "families/many/dvc.yaml").write_text(
        "stages:\n  many:\n    wdir: ../..\n"
        "    cmd: mkdir -p out/many/sub && echo a > out/many/a && echo b > out/many/sub/b\n"
        "    outs:\n      - out/many\n"
    )
    sh(root, "git", "init", "-q")
    sh(root, "dvc", "init", "-q")
    sh(root, "git", "add", "-A")
    sh(root, "dvc", "repro", "--all-pipelines")
    return root


def test_a_removed_file_output_is_restored(repo: Path) -> None:
    (repo / "out/one.txt").unlink()
    assert restore_removed_outputs("one", repo) == [repo / "out/one.txt"]
    assert (repo / "out/one.txt").read_text() == "first\n"


def test_a_removed_folder_output_of_a_family_file_is_restored(repo: Path) -> None:
    shutil.rmtree(repo / "out/many")
    assert restore_removed_outputs("families/many/dvc.yaml:many", repo) == [repo / "out/many"]
    assert (repo / "out/many/a").read_text() == "a\n" and (repo / "out/many/sub/b").read_text() == "b\n"


def test_present_outputs_are_left_alone(repo: Path) -> None:
    (repo / "out/one.txt").write_text("changed\n")
    try:
        assert restore_removed_outputs("one", repo) == []
        assert (repo / "out/one.txt").read_text() == "changed\n"
    finally:
        (repo / "out/one.txt").write_text("first\n")


def test_outside_dvc_nothing_is_restored(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DVC_STAGE", raising=False)
    assert restore_removed_outputs(None, repo) == []


def test_an_output_missing_from_the_cache_is_reported_not_invented(repo: Path, tmp_path: Path) -> None:
    cache = repo / ".dvc/cache"
    shutil.move(cache, tmp_path / "cache")
    (repo / "out/one.txt").unlink()
    try:
        assert restore_removed_outputs("one", repo) == []
        assert not (repo / "out/one.txt").exists()
    finally:
        shutil.move(tmp_path / "cache", cache)
        restore_removed_outputs("one", repo)
    assert (repo / "out/one.txt").read_text() == "first\n"
