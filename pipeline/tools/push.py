"""``python -m pipeline.tools.push``: ``dvc push --run-cache``, plus the outputs its run-cache entries name.

DVC 3.67.1's ``dvc push --run-cache`` uploads every run-cache entry (a stage's deps, params and the hashes
of the outputs they produced) but only the output objects that the workspace's ``dvc.lock`` files name.
An entry from any other run (an experiment, a params value tried and reverted, a stage since changed)
reaches the remote without its outputs: a teammate's ``dvc repro --pull`` finds the entry, cannot fetch
what it names ("Missing cache files") and runs the stage again. This command pushes those outputs too,
through DVC's own API (the run-cache's ``get_used_objs`` and the data cloud's ``push``), and ``--check``
says which are missing on the remote without pushing. Delete it when DVC pushes them itself: the test
that runs it (tests/test_team.py) checks that plain ``dvc push --run-cache`` still leaves some behind.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dvc.repo import Repo


@dataclass(frozen=True)
class Outcome:
    """What a push or a check found: run-cache ``entries``, the output ``objects`` they name (DVC
    counts a directory's files), those ``missing`` on the remote afterwards, those ``absent`` from the
    local cache too, and the entries naming a directory whose listing is in neither cache
    (``unlisted``): the stages of absent objects and unlisted entries will run again elsewhere."""

    entries: int
    objects: int
    missing: int
    absent: int
    unlisted: int = 0


def run_cache_entries(runs: Path) -> Iterator[tuple[str, str]]:
    """(key, value) of every entry under DVC's run-cache folder ``runs/<key[:2]>/<key>/<value>``,
    sorted; nothing when the folder does not exist (no stage has run in this clone)."""
    if not runs.is_dir():
        return
    for entry in sorted(runs.glob("??/*/*")):
        if entry.is_file():
            yield entry.parent.name, entry.name


def named_objects(repo: Repo, remote: str | None) -> tuple[int, set[Any], int]:
    """(number of run-cache entries, hash infos of every output they name, number of entries naming a
    directory whose listing (its ``.dir`` object) is neither in the local cache nor on the remote).

    One entry at a time, so that one such entry (an old run whose outputs ``dvc gc`` removed, or whose
    run-cache entry a teammate's ``dvc repro --pull`` fetched without them) does not hide the others."""
    from dvc.exceptions import CollectCacheError

    entries = list(run_cache_entries(Path(repo.stage_cache.cache_dir)))
    objects: set[Any] = set()
    unlisted = 0
    for entry in entries:
        try:
            used = repo.stage_cache.get_used_objs([entry], remote=remote)
        except CollectCacheError:
            unlisted += 1
            continue
        objects.update(*used.values())
    return len(entries), objects, unlisted


def check_reachable(repo: Repo, remote: str | None) -> None:
    """Raise DVC's or the filesystem's error (wrong credentials, no connection, no bucket) before any
    work, rather than count every output as missing."""
    odb = repo.cloud.get_remote_odb(remote, "push")
    odb.fs.exists(odb.path)


def _missing(repo: Repo, objects: set[Any], remote: str | None) -> tuple[int, int]:
    """(missing on the remote, of which absent from the local cache too) among ``objects``: DVC's
    status says ``new`` (only here), ``missing`` (nowhere), ``deleted`` (only on the remote), ``ok``."""
    status = repo.cloud.status(objects, remote=remote)
    return len(status.new) + len(status.missing), len(status.missing)


def push(repo: Repo, remote: str | None, *, check_only: bool = False, jobs: int | None = None) -> Outcome:
    """Push the run-cache and the workspace's outputs (``dvc push --run-cache``), then every output the
    run-cache entries name; with ``check_only``, push nothing and count what is missing on the remote."""
    check_reachable(repo, remote)
    if not check_only:
        repo.push(remote=remote, run_cache=True, jobs=jobs)
    entries, objects, unlisted = named_objects(repo, remote)
    if not check_only and objects:
        repo.cloud.push(objects, jobs=jobs, remote=remote)
    missing, absent = _missing(repo, objects, remote) if objects else (0, 0)
    return Outcome(entries, len(objects), missing, absent, unlisted)


def stage_entries(repo: Repo, address: str) -> list[tuple[str, str]]:
    """The run-cache entries (key, value) of one stage as its ``dvc.lock`` entry stands: the results a
    ``dvc repro`` of it just saved or restored."""
    from dvc.stage.cache import _can_hash, _get_stage_hash

    (stage,) = repo.stage.collect(address)
    if not _can_hash(stage):
        return []
    key = _get_stage_hash(stage)
    folder = Path(repo.stage_cache._get_cache_dir(key))
    return [(key, p.name) for p in sorted(folder.iterdir())] if folder.is_dir() else []


def push_stages(repo: Repo, addresses: list[str], remote: str | None, jobs: int | None = None) -> Outcome:
    """Push the run-cache entries of the given stages and every output they name, nothing else (a
    fan-out's worker: README "Beyond one machine"; the whole run-cache of a shared cache is not its
    to push)."""
    from dvc import fs

    check_reachable(repo, remote)
    entries = [e for address in addresses for e in stage_entries(repo, address)]
    used = repo.stage_cache.get_used_objs(entries, remote=remote)
    objects: set[Any] = set().union(*used.values()) if used else set()
    if objects:
        repo.cloud.push(objects, jobs=jobs, remote=remote)
    odb = repo.cloud.get_remote_odb(remote, "push --run-cache", hash_name="md5-dos2unix")
    local = repo.cache.legacy.fs
    for key, value in entries:
        dst = odb.fs.join(odb.path, "runs", key[:2], key, value)
        fs.generic.copy(local, repo.stage_cache._get_cache_path(key, value), odb.fs, dst)
    missing, absent = _missing(repo, objects, remote) if objects else (0, 0)
    return Outcome(len(entries), len(objects), missing, absent)


def describe(outcome: Outcome, remote: str) -> str:
    """One line for the user: what is on the remote, and what a teammate could not restore."""
    line = (
        f"{outcome.entries} run-cache entries name {outcome.objects} objects; "
        f"{outcome.objects - outcome.missing} are on remote '{remote}'"
    )
    if outcome.missing:
        line += f", {outcome.missing} are not"
        if outcome.absent:
            line += (
                f" ({outcome.absent} not in this clone's cache either: `dvc gc` removed them, or they "
                "were never pulled; their stages will run again elsewhere)"
            )
    if outcome.unlisted:
        line += (
            f"; {outcome.unlisted} entries name a directory whose listing is neither here nor on the "
            "remote (their stages will run again elsewhere)"
        )
    return line


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pipeline.tools.push",
        description="dvc push --run-cache, plus the outputs that its run-cache entries name (DVC 3.67.1 "
        "pushes only those the workspace's dvc.lock files name), so a teammate's `dvc repro --pull` "
        "restores every stage that has run here instead of running it again.",
    )
    p.add_argument("-r", "--remote", help="the DVC remote (default: the default remote, core.remote)")
    p.add_argument("-j", "--jobs", type=int, help="parallel transfers (default: DVC's)")
    p.add_argument(
        "--check",
        action="store_true",
        help="push nothing: say how many outputs named by run-cache entries are missing on the remote "
        "(exit 1 if any)",
    )
    p.add_argument(
        "--stage",
        action="append",
        metavar="ADDRESS",
        help="push only this stage's run-cache entries and the outputs they name (repeatable; DVC's "
        "address, e.g. families/compress/dvc.yaml:compress@dense-0); what a fan-out's worker runs",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    from dvc.repo import Repo

    args = build_parser().parse_args(argv)
    remote = args.remote
    try:
        os.chdir(Repo.find_root())  # DVC builds the run-cache's stages relative to the working directory
        with Repo() as repo:
            remote = remote or repo.config["core"].get("remote")
            if not remote:
                print('error: no DVC remote: add one (README "Working as a team")', file=sys.stderr)
                return 1
            if args.stage:
                outcome = push_stages(repo, args.stage, remote, jobs=args.jobs)
            else:
                outcome = push(repo, remote, check_only=args.check, jobs=args.jobs)
    except Exception as e:  # DVC's, and the remote filesystems' own (OSError, botocore's): one line
        where = f"remote '{remote}': " if remote else ""
        print(f"error: {where}{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(describe(outcome, remote))
    return 1 if outcome.missing or outcome.unlisted else 0


if __name__ == "__main__":
    sys.exit(main())
