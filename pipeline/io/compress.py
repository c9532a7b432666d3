"""The layout of the ``compress`` stage's outputs, for its writer and every reader: one checkpoint per
cell (a config applied to one member), a folder per config::

    data/compress/<config>/seed_<N>.safetensors   (pipeline/io/checkpoints.py)

The ``dense`` config's cells are the dense members' tensors saved again as cells (metadata kind ``cell``):
every later stage reads a config's population from here alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CompressFolder:
    """``root``: the stage's output folder (``data/compress``)."""

    root: Path

    def config(self, config: str) -> Path:
        return self.root / config

    def checkpoint(self, config: str, seed: int) -> Path:
        return self.config(config) / f"seed_{seed}.safetensors"
