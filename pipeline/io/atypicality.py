"""The ``atypicality`` stage's output folder, for its writer and every reader (the ``traits`` stage)::

    data/atypicality/atypicality.json   the classifier layer whose input is the representation, its
                                        width D, the test examples N, the seeds, each array's SHA-256
    data/atypicality/seed_<N>.npy       (N,) float32: in the penultimate representation of the dense
                                        member of seed N, each clean test example's distance to its
                                        class's centroid over the class's median such distance
                                        (pipeline.analysis.pie_traits.class_normalized_distance)

The representations themselves (N x D per member) are not kept: this is all the traits need of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputCorrupt
from pipeline.io.files import read_json, read_npy, save_npy, write_json
from pipeline.io.folders import replaced_folder

WRITER = "atypicality"
META = "atypicality.json"
FORMAT = 1
RERUN = f"run `dvc repro {WRITER}`"


def array_name(seed: int) -> str:
    return f"seed_{seed}.npy"


@dataclass(frozen=True)
class Atypicality:
    """What ``atypicality.json`` records; :meth:`array` reads one member's scores."""

    root: Path
    layer: str
    width: int
    examples: int
    seeds: tuple[int, ...]
    files: dict[str, str]

    def array(self, seed: int) -> np.ndarray:
        """(N,) float32 of the member of ``seed``, checked against its SHA-256 and the recorded size."""
        name = array_name(seed)
        if name not in self.files:
            raise InputCorrupt(f"{self.root / META}: holds no member of seed {seed}; {RERUN}")
        array = read_npy(self.root / name, self.files[name], WRITER)
        if array.dtype != np.float32 or array.shape != (self.examples,):
            raise InputCorrupt(
                f"{self.root / name}: {array.dtype} {array.shape}, not float32 ({self.examples},); {RERUN}"
            )
        return array

    def arrays(self, seeds: Sequence[int]) -> Iterator[np.ndarray]:
        """The members of ``seeds``, in that order, one at a time."""
        missing = sorted(set(seeds) - set(self.seeds))
        if missing:
            raise InputCorrupt(
                f"{self.root / META}: holds the dense members of seeds {list(self.seeds)}, not {missing}; "
                f"{RERUN}"
            )
        return (self.array(seed) for seed in seeds)


def write_atypicality(root: Path, layer: str, width: int, arrays: Mapping[int, np.ndarray]) -> None:
    """The folder ``root`` (replaced as a whole): every seed's (N,) scores as float32 and the record."""
    shapes = {array.shape for array in arrays.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise ValueError(f"the members' atypicality arrays are not (N,) of one N: {sorted(shapes)}")
    ((examples,),) = shapes
    with replaced_folder(Path(root)) as out:
        files = {
            array_name(seed): save_npy(out / array_name(seed), np.asarray(a, np.float32))
            for seed, a in arrays.items()
        }
        record: dict[str, Any] = {
            "format": FORMAT,
            "layer": layer,
            "width": int(width),
            "examples": int(examples),
            "seeds": [int(seed) for seed in arrays],
            "files": files,
        }
        write_json(out / META, record)


def read_atypicality(root: Path) -> Atypicality:
    """The record of the folder ``root``; a missing or garbled one is an InputCorrupt naming it."""
    root = Path(root)
    record = read_json(root / META, WRITER)
    try:
        if record["format"] != FORMAT:
            raise InputCorrupt(
                f"{root / META}: format {record['format']}, this version reads {FORMAT}; {RERUN}"
            )
        return Atypicality(
            root,
            str(record["layer"]),
            int(record["width"]),
            int(record["examples"]),
            tuple(int(s) for s in record["seeds"]),
            {str(k): str(v) for k, v in record["files"].items()},
        )
    except (KeyError, TypeError, ValueError) as err:
        raise InputCorrupt(f"{root / META}: not an atypicality record [{err}]; {RERUN}") from None
