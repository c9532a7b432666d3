"""Stage ``code``: one fingerprint per stage of the pipeline/ files it runs (pipeline/io/code.py).

It depends on the whole ``pipeline`` folder, so it reruns (in well under a second: no torch, no params)
whenever any file there changes; every other stage depends on its own fingerprint file, which changes only
when one of the files that stage imports does. DVC then reruns exactly the stages an edit can affect, as
with a list of every imported file in each stage's ``deps``, while each ``dvc.lock`` entry stays short.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.closure import closure
from pipeline.io.code import write_fingerprint
from pipeline.io.files import file_sha256
from pipeline.io.folders import replaced_folder
from pipeline.stages._cli import run

ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the pipeline package


def stage_modules(root: Path) -> list[Path]:
    """The entry module of every stage: pipeline/stages/<name>.py, helpers (``_``-prefixed) excluded."""
    return sorted(p for p in (root / "pipeline" / "stages").glob("*.py") if not p.name.startswith("_"))


def fingerprint(root: Path, entry: Path) -> dict[str, str]:
    """{path relative to ``root``: SHA-256} of every pipeline/ file that running ``entry`` imports."""
    return {path: file_sha256(root / path) for path in sorted(closure(root, entry))}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", required=True, help="output folder: one <stage>.json per stage")
    return p


def main(args: argparse.Namespace) -> None:
    with replaced_folder(Path(args.out)) as tmp:
        for entry in stage_modules(ROOT):
            write_fingerprint(tmp, entry.stem, fingerprint(ROOT, entry))


if __name__ == "__main__":
    run(main, build_parser().parse_args())
