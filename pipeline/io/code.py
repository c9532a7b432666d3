"""The ``code`` stage's output folder, for its writer and every stage that depends on it::

data/code/<stage>.json    {"stage": <stage>, "files": {<path>: <sha256>, ...}}: every pipeline/ file that
                          ``python -m pipeline.stages.<stage>`` imports (pipeline/closure.py), with its digest

A stage's dvc.yaml entry depends on its own file here instead of on each of those files: the file changes
exactly when one of them does, and the stage's lock entry holds one dependency instead of about forty.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pipeline.io.files import read_json, write_json

WRITER = "code"


def fingerprint_path(folder: Path, stage: str) -> Path:
    return folder / f"{stage}.json"


def write_fingerprint(folder: Path, stage: str, files: Mapping[str, str]) -> None:
    """One stage's file: its modules' paths (sorted) and their SHA-256 digests."""
    write_json(fingerprint_path(folder, stage), {"stage": stage, "files": dict(sorted(files.items()))})


def read_fingerprint(folder: Path, stage: str) -> dict[str, str]:
    data = read_json(fingerprint_path(folder, stage), WRITER)
    return dict(data["files"])
