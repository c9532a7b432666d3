"""``python -m pipeline.tools.layout``: the compress family's DVC files in one file, or one per seed.

    python -m pipeline.tools.layout              # which layout is in use, and whether it follows params.yaml
    python -m pipeline.tools.layout --per-seed   # families/compress/seed_<N>/dvc.yaml for each seed
    python -m pipeline.tools.layout --single     # back to families/compress/dvc.yaml (the default)

Why and when (pipeline/layout.py, README "Large populations"): with many seeds, one file per seed keeps
DVC's cost per stage flat. The lock entries move with their stages, so switching reruns nothing; in the
per-seed layout, run ``--per-seed`` again after changing ``population.seeds`` (the ``validate`` stage
refuses a params.yaml that the files do not follow). Commit the result: the files are the pipeline.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import load_params
from pipeline.errors import ConfigError
from pipeline.layout import FAMILY, KEPT, SINGLE, check, current, render, shard_folder

LOCK = "dvc.lock"


def _read_entries(lock: Path) -> dict[str, Any]:
    if not lock.is_file():
        return {}
    data = yaml.safe_load(lock.read_text()) or {}
    return dict(data.get("stages") or {})


def _write_entries(lock: Path, entries: dict[str, Any]) -> None:
    if not entries:
        lock.unlink(missing_ok=True)
        return
    text = yaml.safe_dump({"schema": "2.0", "stages": entries}, sort_keys=False, width=110)
    lock.write_text(text)


def seed_of(stage: str) -> int:
    """``compress@magnitude_50-3`` -> 3 (config names hold no ``-``)."""
    return int(stage.rpartition("-")[2])


def _shard_entries(root: Path) -> dict[str, Any]:
    """Every lock entry of the per-seed files, in seed order."""
    entries: dict[str, Any] = {}
    for seed in current(root).seeds:
        entries |= _read_entries(shard_folder(root, seed) / LOCK)
    return entries


def _remove_shards(root: Path, keep: set[int]) -> None:
    for seed in current(root).seeds:
        if seed not in keep:
            shutil.rmtree(shard_folder(root, seed))


def to_per_seed(root: Path, seeds: tuple[int, ...]) -> None:
    """One dvc.yaml and dvc.lock per seed of ``seeds``; the lock entries of other seeds are dropped."""
    if current(root).mode == "single":
        text, entries = (root / SINGLE).read_text(), _read_entries(root / FAMILY / LOCK)
        render(text, 0)  # the single file must render before anything moves
        (root / SINGLE).rename(root / KEPT)
        (root / FAMILY / LOCK).unlink(missing_ok=True)
    else:
        text, entries = (root / KEPT).read_text(), _shard_entries(root)
    _remove_shards(root, set(seeds))
    for seed in seeds:
        folder = shard_folder(root, seed)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "dvc.yaml").write_text(render(text, seed))
        _write_entries(folder / LOCK, {k: v for k, v in entries.items() if seed_of(k) == seed})


def to_single(root: Path) -> None:
    """Back to families/compress/dvc.yaml, with every per-seed lock entry in its dvc.lock."""
    if current(root).mode == "single":
        return
    entries = _shard_entries(root)
    _remove_shards(root, set())
    (root / KEPT).rename(root / SINGLE)
    _write_entries(root / FAMILY / LOCK, entries)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--per-seed", action="store_true", help="one dvc.yaml per seed of population.seeds")
    group.add_argument("--single", action="store_true", help="one dvc.yaml for every cell (the default)")
    p.add_argument("--params", default="params.yaml", help="the params file (default: params.yaml)")
    p.add_argument("--root", type=Path, default=Path("."), help="the repository (default: here)")
    args = p.parse_args(argv)
    try:
        seeds = load_params(args.root / args.params).population.seeds
        if args.per_seed:
            to_per_seed(args.root, seeds)
        elif args.single:
            to_single(args.root)
        layout = current(args.root)
        check(args.root, seeds)
    except (ConfigError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    where = f" ({len(layout.seeds)} seeds)" if layout.mode == "per-seed" else ""
    print(f"{FAMILY}: {layout.mode}{where}, following population.seeds")


if __name__ == "__main__":
    main()
