"""The scratch area: where temporaries go, and how a killed process's debris is cleaned."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.io import scratch
from pipeline.io.files import atomic_path, write_json
from pipeline.io.folders import replaced_folder


def project(tmp_path: Path) -> Path:
    """A folder that looks like a DVC project's root."""
    (tmp_path / ".dvc").mkdir(parents=True)
    return tmp_path


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def debris(area: Path, pid: int, name: str = "out.json", host: str | None = None) -> Path:
    """A temporary file as a process ``pid`` of ``host`` (default: this one) would leave it."""
    area.mkdir(parents=True, exist_ok=True)
    path = area / f"{name}.{host or scratch.owner().rsplit('-', 1)[0]}-{pid}.abc_123x.part"
    path.write_text("half")
    return path


def test_the_area_is_at_the_project_root_else_in_the_targets_folder(tmp_path: Path) -> None:
    root = project(tmp_path / "repo")
    assert scratch.scratch_dir(root / "data" / "saliency" / "x.npy") == root / ".scratch"
    assert scratch.scratch_dir(tmp_path / "loose" / "x.json") == tmp_path / "loose" / ".scratch"
    inside = tmp_path / "loose" / ".scratch" / "out.h-1.abc.part" / "clean" / "seed_0.parquet"
    assert scratch.scratch_dir(inside) == tmp_path / "loose" / ".scratch"  # a folder being built


def test_an_area_on_another_filesystem_gives_way_to_the_targets_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path)
    data = root / "data"
    monkeypatch.setattr(scratch, "_device", lambda path: 2 if data in (path, *path.parents) else 1)
    assert scratch.scratch_dir(data / "prepared" / "meta.json") == data / "prepared" / ".scratch"


def test_a_write_goes_through_the_area_and_leaves_nothing_beside_its_target(tmp_path: Path) -> None:
    root = project(tmp_path)
    target = root / "data" / "saliency" / "summary.json"
    with atomic_path(target) as tmp:
        assert tmp.parent == root / ".scratch" and f".{scratch.owner()}." in tmp.name
        assert list(target.parent.iterdir()) == []  # nothing beside the target while it is written
        tmp.write_text("{}")
    assert [p.name for p in target.parent.iterdir()] == ["summary.json"]
    assert sorted(p.name for p in root.iterdir()) == [".dvc", "data"]  # the empty area is removed


def test_a_folder_is_built_in_the_area_and_swapped_in(tmp_path: Path) -> None:
    root = project(tmp_path)
    out = root / "data" / "predict" / "dense"
    write_json(out / "stale.json", {})
    with replaced_folder(out) as tmp:
        assert tmp.parent == root / ".scratch"
        write_json(tmp / "clean" / "summary.json", {"ok": 1})
        assert [p.name for p in out.iterdir()] == ["stale.json"]
    assert [p.relative_to(out).as_posix() for p in sorted(out.rglob("*"))] == ["clean", "clean/summary.json"]
    assert [p.name for p in out.parent.iterdir()] == ["dense"]
    assert not (root / ".scratch").exists()


def test_dead_processes_debris_is_removed_and_live_ones_kept(tmp_path: Path) -> None:
    root = project(tmp_path)
    area = root / ".scratch"
    dead = debris(area, dead_pid())
    mine = debris(area, os.getpid())
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = debris(area, sleeper.pid, name="model.safetensors")
        other_host = debris(area, dead_pid(), host="elsewhere")
        (area / "dead-folder.x").mkdir()
        folder = area / f"out.{scratch.owner().rsplit('-', 1)[0]}-{dead_pid()}.k3y_abcd.part"
        (folder / "clean").mkdir(parents=True)
        (area / scratch.RESUME).mkdir()
        write_json(root / "data" / "x.json", {})  # any write cleans its area first
        assert not dead.exists() and not folder.exists()
        assert live.exists() and mine.exists() and other_host.exists()  # another host's pids are unknown here
        assert (area / scratch.RESUME).is_dir() and (area / "dead-folder.x").is_dir()  # not temporaries
    finally:
        sleeper.kill()
        sleeper.wait()


def test_clean_reports_what_it_removed(tmp_path: Path) -> None:
    area = tmp_path / ".scratch"
    dead = debris(area, dead_pid())
    assert scratch.clean(area) == [dead]
    assert scratch.clean(tmp_path / "nowhere") == []


def test_pid_alive() -> None:
    assert scratch.pid_alive(os.getpid())
    assert scratch.pid_alive(1)  # init: alive, perhaps not ours to signal
    assert not scratch.pid_alive(dead_pid())
