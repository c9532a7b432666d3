"""Atomic writes and small text files (JSON, CSV).

A write goes to a temporary file in the scratch area (pipeline/io/scratch.py: outside DVC's view, on the
target's filesystem) and is renamed onto its target only when complete, so a failed or killed stage never
leaves a half-written output, nor a temporary beside one. A read names the file in one line (InputCorrupt)
when it is missing, truncated, garbled or differs from its recorded SHA-256.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputCorrupt
from pipeline.io import scratch

_UMASK = os.umask(0)  # the process umask: read by setting it and putting it back
os.umask(_UMASK)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s scratch area; rename it onto ``path`` only if the block
    succeeds (a killed process's temporary is removed by the next write to that area)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with scratch.temporary(path) as tmp:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; outputs get the usual permissions
        yield tmp
        os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: Path, writer: str | None = None) -> Any:
    """The JSON value in ``path``; a missing, truncated or garbled file is an InputCorrupt naming it
    (``writer``: the stage that writes it, named in the fix)."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputCorrupt(f"{path}: missing; {rerun(writer)}") from None
    except (ValueError, OSError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InputCorrupt(f"{path}: not readable JSON (truncated or garbled) [{reason(err)}]") from None


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, read in large blocks (hashlib.file_digest)."""
    with Path(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def save_npy(path: Path, array: np.ndarray) -> str:
    """Write ``array`` to ``path`` atomically, in the array's own memory order (an SVD basis stays
    Fortran-ordered, so products with it read back take the same BLAS path, bit for bit); no pickle.
    Returns the SHA-256 of the file written, for the folder's record of its files."""
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.save(handle, array, allow_pickle=False)
    return file_sha256(path)


def read_npy(
    path: Path, sha256: str | None = None, writer: str | None = None, mmap: bool = False
) -> np.ndarray:
    """The array in ``path`` (memory-mapped with ``mmap``), checked against ``sha256`` of the file's bytes
    when given; a missing, truncated, garbled or altered file is an InputCorrupt naming it."""
    path = Path(path)
    try:
        if sha256 is not None and file_sha256(path) != sha256:
            raise InputCorrupt(
                f"{path}: SHA-256 differs from the recorded one (altered or damaged); {rerun(writer)}"
            )
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise InputCorrupt(f"{path}: missing; {rerun(writer)}") from None
    except (ValueError, EOFError, OSError) as err:
        raise InputCorrupt(
            f"{path}: not a readable .npy array (truncated or garbled) [{reason(err)}]"
        ) from None


def rerun(writer: str | None) -> str:
    """The fix for a missing or damaged output of ``writer`` (a stage name)."""
    return f"run `dvc repro {writer}`" if writer else "rerun the stage that writes it"


def reason(err: BaseException) -> str:
    """An exception's message on one line."""
    return " ".join(str(err).split()) or type(err).__name__


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows of equal keys as CSV with a header (the format DVC plots read)."""
    with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
