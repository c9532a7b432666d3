"""The tiny synthetic study that the end-to-end tests share: a temporary copy of the repository with a
tiny config (synthetic data, 2 seeds, 1 epoch) on which the real ``dvc repro`` has run, and the helpers that
run DVC on it. The study is made once per test session (``study`` fixture in conftest.py); a test that
changes it puts it back with :func:`restore`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import to_dict

from .conftest import REPO, tiny_params

BIN = Path(sys.executable).parent
# The code and the DVC files, not the default study's dvc.lock files (the tiny study writes its own).
COPIED = ["pipeline", "dvc.yaml", "families", ".gitignore", ".dvcignore", "data/.gitkeep", "pyproject.toml"]


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e['PATH']}"
    e |= {
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    return e


def sh(cwd: Path, *argv: str) -> str:
    """Run a command, fail the test with its output if it fails; return stdout + stderr."""
    result = subprocess.run(argv, cwd=cwd, env=env(), capture_output=True, text=True, check=False)
    out = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(argv)} failed:\n{out}"
    return out


CONFIGS = ("dense", "magnitude_50", "int8_static")
FAN_IN = {"validate", "robustness", "stats", "pie", "report"}  # cheap stages over the whole study


def ran(out: str) -> set[str]:
    """The stages a dvc command ran, from its "Running stage '[families/<family>/dvc.yaml:]x':" lines."""
    return {name.rpartition(":")[2] for name in re.findall(r"Running stage '([^']+)'", out)}


PER_CONFIG = ("predict", "saliency", "representations")  # the @config stages
# The dense population's, computed once for every config
DENSE_REFERENCES = {"saliency_reference", "representations_reference", "atypicality", "traits"}


def per_config(configs: tuple[str, ...]) -> set[str]:
    return {f"{stage}@{c}" for stage in PER_CONFIG for c in configs}


def cells(configs: tuple[str, ...], seeds: tuple[int, ...]) -> set[str]:
    """The compress cells of ``configs`` and their @config stages."""
    return {f"compress@{c}-{s}" for c in configs for s in seeds} | per_config(configs)


def edit_params(repo: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    edit(raw)
    (repo / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def restore(repo: Path) -> None:
    """Back to the committed study: params, lock and reports from git (new plot tables of an added config
    removed), outputs from DVC's cache."""
    sh(repo, "git", "checkout", "--", ".")
    sh(repo, "git", "clean", "-fdq")
    sh(repo, "dvc", "checkout", "--force")
    assert "up to date" in sh(repo, "dvc", "status")


def lock_hashes(repo: Path) -> dict[str, str]:
    """Output path -> md5 recorded in every dvc.lock."""
    locks = [yaml.safe_load(p.read_text()) for p in [repo / "dvc.lock", *repo.glob("families/*/dvc.lock")]]
    return {o["path"]: o["md5"] for lock in locks for s in lock["stages"].values() for o in s.get("outs", [])}


def copy_project(repo: Path) -> None:
    """The repository's code and DVC files (:data:`COPIED`, no dvc.lock) into ``repo``."""
    for name in COPIED:
        src, dst = REPO / name, repo / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "dvc.lock"))
        else:
            shutil.copy2(src, dst)


def make_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed copy of the repository with the tiny params, after a full `dvc repro`."""
    repo = tmp_path_factory.mktemp("study")
    copy_project(repo)
    (repo / "params.yaml").write_text(yaml.safe_dump(to_dict(tiny_params()), sort_keys=False))
    sh(repo, "git", "init", "-q")
    sh(repo, "dvc", "init", "-q")
    shutil.copytree(REPO / ".dvc/plots", repo / ".dvc/plots")  # the plots' templates (dvc.yaml names them)
    sh(repo, "dvc", "remote", "add", "-d", "shared", str(tmp_path_factory.mktemp("remote")))
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-qm", "tiny study")
    out = sh(repo, "dvc", "repro")
    assert ran(out) == {
        "code",
        "prepare",
        "corrupt",
        "train@0",
        "train@1",
    } | FAN_IN | DENSE_REFERENCES | cells(CONFIGS, (0, 1)), out
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-qm", "run")
    return repo
