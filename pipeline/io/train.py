"""The layout of the ``train`` stage's outputs, for its writer and every reader: one folder per member
(a seed's dense model) under the stage's folder, and its per-epoch history under the reports' folder (a DVC
plot)::

    data/train/seed_<N>/model.safetensors    the member's checkpoint (pipeline/io/checkpoints.py)
    data/train/seed_<N>/metrics.json         its test and validation top-1
    reports/training/seed_<N>.csv            per-epoch loss and accuracy
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CHECKPOINT = "model.safetensors"
METRICS = "metrics.json"


@dataclass(frozen=True)
class TrainFolder:
    """``root``: the stage's output folder (``data/train``); ``history_root``: the folder of the
    histories (``reports/training``)."""

    root: Path
    history_root: Path | None = None

    def member(self, seed: int) -> Path:
        return self.root / f"seed_{seed}"

    def checkpoint(self, seed: int) -> Path:
        return self.member(seed) / CHECKPOINT

    def metrics(self, seed: int) -> Path:
        return self.member(seed) / METRICS

    def history(self, seed: int) -> Path:
        if self.history_root is None:
            raise ValueError("no history folder given")
        return self.history_root / f"seed_{seed}.csv"
