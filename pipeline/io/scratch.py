"""The scratch area: files a stage needs while it runs but that are no output (temporaries, resume state).

It is ``.scratch/`` at the root of the DVC project that holds the target (the nearest folder above it with
a ``.dvc`` folder), which .gitignore and .dvcignore leave out, so a stage killed mid-write leaves nothing
that ``dvc status``, ``git status`` or a directory dependency (``data/saliency`` of ``report``) would see.
Outside a DVC project (a stage run by hand elsewhere, a unit test writing into a temporary folder) it is
``.scratch/`` in the target's own folder; a target already inside a scratch area (a file of a folder being
built by :func:`pipeline.io.folders.replaced_folder`) uses that area.  Either way it shares the target's
filesystem, so ``os.replace`` from it is atomic; if the project's area sits on another filesystem (``data``
a link to another disk) the target's own folder is used, which ``.dvcignore``'s ``.scratch/`` also hides.

A temporary is named ``<target name>.<host>-<pid>.<random>.part``.  Every new temporary first removes the
entries of processes of this host that are no longer alive (a killed stage's debris) and never those of a
live one (two stages may run at once), and an area left empty is removed.  Resume state (pipeline/io/
resume.py) lives in the area's ``resume/`` folder and is not debris: it outlives its process on purpose.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCRATCH = ".scratch"
RESUME = "resume"  # the folder of resume state inside an area
# <name>.<host>-<pid>.<random>.part; the host is sanitised to [A-Za-z0-9-] and the random part is mkstemp's
_ENTRY = re.compile(r"\.(?P<host>[A-Za-z0-9-]+)-(?P<pid>\d+)\.[A-Za-z0-9_]+\.part$")
_NAME_MAX = 80  # of the target's name kept in a temporary's name (file names stop at 255 bytes)
_RETRIES = 5  # another process may remove an empty area between our mkdir and our create


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def owner() -> str:
    """``<host>-<pid>`` of this process, as it appears in its temporaries' names."""
    return f"{_host()}-{os.getpid()}"


def project_scratch(target: Path) -> Path:
    """The scratch area of ``target`` by name (see the module docstring), without the filesystem check."""
    target = Path(os.path.abspath(target))
    for folder in target.parents:
        if folder.name == SCRATCH:
            return folder
        if (folder / ".dvc").is_dir():
            return folder / SCRATCH
    return target.parent / SCRATCH


def _device(path: Path) -> int:
    """st_dev of ``path`` or of its nearest existing ancestor."""
    for folder in (path, *path.parents):
        try:
            return os.stat(folder).st_dev
        except FileNotFoundError:
            continue
    raise FileNotFoundError(path)


def scratch_dir(target: Path) -> Path:
    """Where the temporaries and resume state of ``target`` go: on ``target``'s filesystem, outside DVC."""
    area = project_scratch(target)
    parent = Path(os.path.abspath(target)).parent
    if _device(area) != _device(parent):
        return parent / SCRATCH
    return area


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (one of another user counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass  # another cleaner got there first


def clean(area: Path) -> list[Path]:
    """Remove the temporaries in ``area`` whose process (on this host) has ended; returns them."""
    host, removed = _host(), list[Path]()
    try:
        names = os.listdir(area)
    except FileNotFoundError:
        return removed
    for name in names:
        match = _ENTRY.search(name)
        if match and match["host"] == host and not pid_alive(int(match["pid"])):
            _remove(area / name)
            removed.append(area / name)
    return removed


def remove_if_empty(folder: Path) -> None:
    """Remove the scratch area, or its ``resume/`` folder and then the area, if nothing is left in it."""
    folders = [folder]
    if folder.name == RESUME and folder.parent.name == SCRATCH:
        folders.append(folder.parent)
    for empty in folders:
        try:
            empty.rmdir()
        except OSError:
            return  # not empty, or gone


def _create(area: Path, target: Path, folder: bool) -> Path:
    """A new empty temporary file or folder in ``area`` named for ``target`` and this process."""
    prefix, suffix = f"{target.name[:_NAME_MAX]}.{owner()}.", ".part"
    for attempt in range(_RETRIES):
        area.mkdir(parents=True, exist_ok=True)
        try:
            if folder:
                return Path(tempfile.mkdtemp(dir=area, prefix=prefix, suffix=suffix))
            fd, name = tempfile.mkstemp(dir=area, prefix=prefix, suffix=suffix)
            os.close(fd)
            return Path(name)
        except FileNotFoundError:
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


@contextmanager
def temporary(target: Path, folder: bool = False) -> Iterator[Path]:
    """Yield a new empty temporary file (or folder) in ``target``'s scratch area; remove whatever is left
    of it afterwards (a caller that wants it moves it onto its target before the block ends)."""
    area = scratch_dir(target)
    clean(area)
    tmp = _create(area, Path(target), folder)
    try:
        yield tmp
    finally:
        if os.path.lexists(tmp):
            _remove(tmp)
        remove_if_empty(area)
