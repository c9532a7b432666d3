"""Stage ``validate``: check the whole params.yaml before any other stage runs (SPEC, "params").

Every other stage depends on this stage's output, so ``dvc repro`` and ``dvc exp run -S`` run it first,
and a bad value (an unknown section, a duplicate key, a wrong type, an out-of-range number, a config name
that is not a safe path component) stops the pipeline with one line naming the key, before DVC has removed
any other stage's outputs. In the compress family's per-seed layout (pipeline/layout.py) it also refuses
seeds that have no stage file, and stage files without a seed. The output, ``data/validate``, holds the
same bytes whatever params.yaml says, so a valid change to params.yaml reruns only the stages whose params
changed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import load_params
from pipeline.io.files import atomic_path
from pipeline.layout import check
from pipeline.stages._cli import parser, run

VALID = "params.yaml is valid (checked by the validate stage)\n"


def build_parser() -> argparse.ArgumentParser:
    p = parser(__doc__ or "")
    p.add_argument("--out", required=True, help="output: the marker file every other stage depends on")
    return p


def main(args: argparse.Namespace) -> None:
    params = load_params(args.params)
    check(Path(args.params).resolve().parent, params.population.seeds)
    with atomic_path(Path(args.out)) as tmp:
        tmp.write_text(VALID)


if __name__ == "__main__":
    run(main, build_parser().parse_args())
