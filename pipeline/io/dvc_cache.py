"""Put back what ``dvc repro`` removed when the stage that it removed it for then fails.

DVC deletes a stage's outputs before it starts the stage's command. When the command then stops on a bad
params value or a damaged input, the previous outputs would be gone although nothing new was made. So
every stage entry point, on failure, restores each of its outputs that is missing from the workspace out
of DVC's local cache, as recorded in the ``dvc.lock`` files (see :func:`restore_removed_outputs`). The
stage is named by ``DVC_STAGE`` and the project by ``DVC_ROOT``, which DVC sets for every command; run by
hand (neither set), a stage has had nothing removed and nothing is restored.

The outputs are taken from the stage as ``dvc.yaml`` defines it now (through DVC's own Python API), so a
path that a bad value made point at another stage's output (``predict@x/../dense``, under ``dvc repro
-s``) is found in that stage's lock entry and put back too.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("pipeline")


def _lock_hashes(root: Path) -> dict[Path, str]:
    """Absolute output path -> md5 (``.dir`` for folders) of every output in every dvc.lock of ``root``."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    hashes: dict[Path, str] = {}
    for lock in [root / "dvc.lock", *sorted(root.glob("families/*/dvc.lock"))]:
        if not lock.is_file():
            continue
        entries = (yaml.load(lock.read_text(), Loader=loader) or {}).get("stages") or {}
        for entry in entries.values():
            for out in entry.get("outs") or []:
                if out.get("md5"):
                    # Lock paths are relative to the stage's wdir: the repository root for every stage here.
                    hashes[Path(os.path.normpath(root / out["path"]))] = out["md5"]
    return hashes


def _files(cache: Path, md5: str, target: Path) -> Iterator[tuple[Path, Path]]:
    """(cache object, workspace path) of every file of the output ``md5`` at ``target``."""

    def obj(oid: str) -> Path:
        return cache / "files" / "md5" / oid[:2] / oid[2:]

    if not md5.endswith(".dir"):
        yield obj(md5), target
        return
    for entry in json.loads(obj(md5).read_text()):
        yield obj(entry["md5"]), target / entry["relpath"]


def _copy(src: Path, dst: Path) -> None:
    from pipeline.io.files import atomic_path

    with atomic_path(dst) as tmp:  # built in the scratch area, renamed into place
        shutil.copyfile(src, tmp)


def restore_removed_outputs(stage: str | None = None, root: Path | None = None) -> list[Path]:
    """Restore the outputs of ``stage`` (a DVC address; default ``$DVC_STAGE``) that are missing from the
    workspace and whose lock entry's objects are in the local cache; return the paths restored."""
    stage = stage or os.environ.get("DVC_STAGE")
    root = Path(root or os.environ.get("DVC_ROOT") or ".").resolve()
    if not stage:
        return []
    from dvc.repo import Repo

    dvcfile, sep, name = stage.rpartition(".yaml:")
    address = f"{root / (dvcfile + '.yaml')}:{name}" if sep else f"{root / 'dvc.yaml'}:{stage}"
    with Repo(str(root)) as repo:
        (target,) = repo.stage.collect(address)
        outs = [Path(os.path.normpath(out.fs_path)) for out in target.outs]
        cache = Path(repo.cache.local.path).parents[1]  # <cache>/files/md5 -> <cache>
    hashes = _lock_hashes(root)
    restored = []
    for out in outs:
        md5 = hashes.get(out)
        if out.exists() or md5 is None:
            continue
        pairs = list(_files(cache, md5, out)) if (cache / "files").exists() else []
        if not pairs or not all(src.is_file() for src, _ in pairs):
            log.warning("cannot restore %s: not in DVC's cache (dvc pull or dvc checkout may)", out)
            continue
        for src, dst in pairs:
            _copy(src, dst)
        restored.append(out)
    return restored
