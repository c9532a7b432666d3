"""Whole output folders written atomically: a stage builds its folder in the scratch area
(pipeline/io/scratch.py) and swaps it in only when complete, so a failure leaves the previous outputs as
they were and no stale file from an earlier run (a removed config's PIEs, say) survives a successful one.
A kill leaves the previous folder, or (killed in the instant between the two renames of the swap) no
folder, never a partial one, and its debris only in the scratch area, which DVC does not see.  The folder
matters when a stage is run by hand; ``dvc repro`` removes a stage's outputs itself before running it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.io import scratch
from pipeline.io.files import _UMASK


@contextmanager
def replaced_folder(path: Path) -> Iterator[Path]:
    """Yield an empty temporary folder in ``path``'s scratch area; on success it becomes ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with scratch.temporary(path, folder=True) as tmp:
        os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp creates 0700; folders get the usual permissions
        yield tmp
        if not path.exists():
            os.replace(tmp, path)
            return
        with scratch.temporary(path, folder=True) as old:
            os.replace(path, old)  # onto the empty folder: the previous outputs, removed on leaving
            try:
                os.replace(tmp, path)
            except BaseException:
                os.replace(old, path)  # put the previous outputs back before giving up
                raise
