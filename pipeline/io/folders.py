"""Whole output folders written atomically: a fan-in stage builds its folder beside the target and swaps
it in only when complete, so a failure leaves the previous outputs as they were and no stale file from an
earlier run (a removed config's PIEs, say) survives a successful one.  This matters when a stage is run
by hand; ``dvc repro`` removes a stage's outputs itself before running it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.io.files import _UMASK


@contextmanager
def replaced_folder(path: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; on success it becomes ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part"))
    os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp creates 0700; folders get the usual permissions
    try:
        yield tmp
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, old / "previous")
        try:
            os.replace(tmp, path)
        except BaseException:
            if old is not None:  # put the previous outputs back before giving up
                os.replace(old / "previous", path)
                old.rmdir()
            raise
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
