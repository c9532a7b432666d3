"""The two layouts of the ``compress`` family's DVC files, for populations small and large.

DVC writes a stage's lock entry into the ``dvc.lock`` beside the ``dvc.yaml`` that defines it, and after
every stage it parses and rewrites that whole file. With one ``families/compress/dvc.yaml`` (the default,
``single``), the compress lock holds every cell, so each cell costs DVC time in proportion to the number of
cells: 0.30 s a stage at 60 cells, 0.57 s at 120, and growing (README "Benchmarks and checks"). The
``per-seed`` layout gives each member its own ``families/compress/seed_<N>/dvc.yaml`` (and so its own lock
of one entry per config), rendered from the single file, which is kept as ``dvc.yaml.single``: the cost per
stage then no longer grows with the number of seeds. The stages, their names (``compress@<config>-<seed>``),
commands, dependencies and outputs are the same in both layouts; only the lock files differ.

``python -m pipeline.tools.layout`` switches between them and moves the lock entries along, so switching
reruns nothing. In the per-seed layout the files must follow ``population.seeds``: the ``validate`` stage
refuses a params.yaml whose seeds have no stage file, or stage files without a seed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError

FAMILY = Path("families") / "compress"
SINGLE = FAMILY / "dvc.yaml"
KEPT = FAMILY / "dvc.yaml.single"  # the single file while the per-seed layout is in use
SHARD = re.compile(r"^seed_(\d+)$")
COMMAND = "python -m pipeline.tools.layout"

# What changes from the single file to a seed's file, each exactly once: one directory deeper, one seed.
_DEEPER = (
    (re.compile(r"^(\s*-[ \t]*)\.\./\.\./params\.yaml[ \t]*$", re.M), r"\1../../../params.yaml"),
    (re.compile(r"^(\s*wdir:\s*)\.\./\.\.(?=\s|$)", re.M), r"\1../../.."),
)
_SEEDS = re.compile(r"^(\s*seed:\s*)\$\{population\.seeds\}", re.M)


@dataclass(frozen=True)
class Layout:
    """``mode`` is ``single`` or ``per-seed``; ``seeds`` are those with a stage file (per-seed only)."""

    mode: str
    seeds: tuple[int, ...] = ()


def shard_folder(root: Path, seed: int) -> Path:
    return root / FAMILY / f"seed_{seed}"


def current(root: Path) -> Layout:
    """The layout of the repository at ``root`` (a ConfigError when it is neither)."""
    single, kept = (root / SINGLE).is_file(), (root / KEPT).is_file()
    if single == kept:
        what = "both" if single else "neither"
        raise ConfigError(f"{FAMILY}: {what} of dvc.yaml and dvc.yaml.single; run {COMMAND} --single")
    if single:
        return Layout("single")
    seeds = sorted(
        int(m.group(1))
        for p in (root / FAMILY).iterdir()
        if (m := SHARD.match(p.name)) and (p / "dvc.yaml").is_file()
    )
    return Layout("per-seed", tuple(seeds))


def render(single_text: str, seed: int) -> str:
    """A seed's ``dvc.yaml``: the single file one folder deeper, with its matrix's seeds set to [seed]."""
    text = single_text
    for pattern, new in (*_DEEPER, (_SEEDS, rf"\g<1>[{seed}]")):
        text, found = pattern.subn(new, text)
        if found != 1:
            raise ConfigError(f"{SINGLE}: expected {pattern.pattern!r} once, to render the per-seed files")
    header = (
        f"# GENERATED for seed {seed} by `{COMMAND} --per-seed` from {KEPT}:\n"
        "# edit that file and run the command again. One dvc.yaml (and so one dvc.lock) per member keeps\n"
        "# DVC's cost per stage flat as the population grows (pipeline/layout.py).\n"
    )
    return header + text


def check(root: Path, seeds: tuple[int, ...]) -> None:
    """In the per-seed layout, a ConfigError unless the stage files are exactly those of ``seeds``."""
    layout = current(root)
    if layout.mode == "single" or set(layout.seeds) == set(seeds):
        return
    missing = sorted(set(seeds) - set(layout.seeds))
    extra = sorted(set(layout.seeds) - set(seeds))
    what = "; ".join(
        part
        for part in (
            f"no stage file for seeds {missing}" if missing else "",
            f"stage files for seeds {extra} that population.seeds does not list" if extra else "",
        )
        if part
    )
    raise ConfigError(f"population.seeds: {FAMILY} is per seed and has {what}; run {COMMAND} --per-seed")
