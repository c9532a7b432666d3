"""pipeline.layout and ``python -m pipeline.tools.layout``: the compress family in one DVC file or one per
seed, the same stages either way, lock entries moved along, and params that the files must follow."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.errors import ConfigError
from pipeline.layout import FAMILY, KEPT, SINGLE, check, current, render
from pipeline.stages import validate
from pipeline.tools import layout as tool

from ..conftest import REPO

BIN = Path(sys.executable).parent


def entry(stage: str) -> dict[str, Any]:
    return {
        "cmd": "python -m pipeline.stages.compress",
        "outs": [{"path": f"data/compress/{stage}", "md5": "0"}],
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The project's DVC files and params.yaml (seeds 0-4), with a compress lock of two configs."""
    shutil.copytree(REPO / "families", tmp_path / "families", ignore=shutil.ignore_patterns("dvc.lock"))
    shutil.copy2(REPO / "params.yaml", tmp_path / "params.yaml")
    stages = {
        f"compress@{c}-{s}": entry(f"{c}/seed_{s}") for c in ("dense", "magnitude_50") for s in range(5)
    }
    (tmp_path / FAMILY / "dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": stages}))
    return tmp_path


def set_seeds(repo: Path, seeds: list[int]) -> None:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["population"]["seeds"] = seeds
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def lock_entries(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text())["stages"])


def test_render_goes_one_folder_deeper_and_fixes_the_seed() -> None:
    text = render((REPO / SINGLE).read_text(), 7)
    stage = yaml.safe_load(text)["stages"]["compress"]
    assert yaml.safe_load(text)["vars"] == ["../../../params.yaml"]
    assert stage["wdir"] == "../../.." and stage["matrix"] == {"config": "${compress.configs}", "seed": [7]}
    single = yaml.safe_load((REPO / SINGLE).read_text())["stages"]["compress"]
    assert {k: v for k, v in stage.items() if k not in ("wdir", "matrix")} == {
        k: v for k, v in single.items() if k not in ("wdir", "matrix")
    }
    with pytest.raises(ConfigError, match=r"expected '.*' once, to render"):
        render(text, 8)  # already rendered: nothing left to fix


def test_switching_moves_every_lock_entry_and_back_gives_the_same_files(repo: Path) -> None:
    single_text, entries = (repo / SINGLE).read_text(), lock_entries(repo / FAMILY / "dvc.lock")
    tool.main(["--root", str(repo), "--per-seed"])
    assert current(repo).mode == "per-seed" and current(repo).seeds == (0, 1, 2, 3, 4)
    assert not (repo / SINGLE).exists() and (repo / KEPT).read_text() == single_text
    for seed in range(5):
        shard = lock_entries(repo / FAMILY / f"seed_{seed}" / "dvc.lock")
        assert shard == {k: v for k, v in entries.items() if k.endswith(f"-{seed}")}
    tool.main(["--root", str(repo), "--per-seed"])  # again: nothing changes
    assert current(repo).seeds == (0, 1, 2, 3, 4)
    tool.main(["--root", str(repo), "--single"])
    assert (repo / SINGLE).read_text() == single_text and not (repo / KEPT).exists()
    assert lock_entries(repo / FAMILY / "dvc.lock") == entries
    assert not list((repo / FAMILY).glob("seed_*"))


def test_per_seed_files_follow_the_seeds_and_validate_refuses_a_mismatch(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool.main(["--root", str(repo), "--per-seed"])
    set_seeds(repo, [0, 1, 2, 5])
    with pytest.raises(ConfigError, match=r"no stage file for seeds \[5\]; stage files for seeds \[3, 4\]"):
        validate.main(argparse.Namespace(params=str(repo / "params.yaml"), out=str(repo / "data/validate")))
    with pytest.raises(SystemExit) as exit_info:
        tool.main(["--root", str(repo)])  # the status command says the same, in one line
    assert (
        exit_info.value.code == 2
        and "run python -m pipeline.tools.layout --per-seed" in capsys.readouterr().err
    )
    tool.main(["--root", str(repo), "--per-seed"])
    assert current(repo).seeds == (0, 1, 2, 5)
    assert not (repo / FAMILY / "seed_5" / "dvc.lock").exists()  # a new seed's cells have run nowhere yet
    assert len(lock_entries(repo / FAMILY / "seed_2" / "dvc.lock")) == 2
    check(repo, (0, 1, 2, 5))
    validate.main(argparse.Namespace(params=str(repo / "params.yaml"), out=str(repo / "data/validate")))


def test_the_single_layout_follows_any_seeds(repo: Path) -> None:
    set_seeds(repo, [3, 9])
    check(repo, (3, 9))  # the matrix reads population.seeds itself
    (repo / KEPT).write_text("")
    with pytest.raises(ConfigError, match=r"both of dvc\.yaml and dvc\.yaml\.single"):
        current(repo)


def test_dvc_sees_the_same_stages_in_both_layouts(repo: Path) -> None:
    def stages() -> list[str]:
        listed = subprocess.run(
            [str(BIN / "dvc"), "stage", "list", "--all", "--name-only"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return sorted(line.rpartition(":")[2] for line in listed.split())

    (repo / FAMILY / "dvc.lock").unlink()  # the fixture's entries are not real DVC lock entries
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([str(BIN / "dvc"), "init", "-q"], cwd=repo, check=True)
    shutil.copy2(REPO / "dvc.yaml", repo / "dvc.yaml")
    before = stages()
    tool.main(["--root", str(repo), "--per-seed"])
    assert stages() == before and len([s for s in before if s.startswith("compress@")]) == 12 * 5
