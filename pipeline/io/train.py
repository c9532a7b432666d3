"""The layout of the ``train`` stage's outputs, for its writer and every reader: one folder per member
(a seed's dense model) under the stage's folder, and its per-epoch history under the reports' folder (a DVC
plot)::

    data/train/seed_<N>/model.safetensors    the member's checkpoint (pipeline/io/checkpoints.py)
    data/train/seed_<N>/metrics.json         its test and validation top-1
    reports/training/seed_<N>.csv            per-epoch loss and accuracy
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from pipeline.io.checkpoints import CheckpointMeta

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

    def outputs(self, seed: int) -> tuple[Path, Path, Path]:
        """The three files the member of ``seed`` is written as (the stage's DVC outs)."""
        return self.checkpoint(seed), self.metrics(seed), self.history(seed)

    def write(
        self,
        seed: int,
        state: Mapping[str, torch.Tensor],
        meta: CheckpointMeta,
        history: Sequence[Mapping[str, Any]],
        metrics: Mapping[str, Any],
    ) -> None:
        """The member's three files, each written atomically, the checkpoint removed first and written last.

        Under ``dvc repro`` the order is safe anyway: DVC removes all three before the stage starts and
        records them only once it exits 0, so after a kill anywhere here the next ``dvc repro`` finds the
        stage changed and runs it again (which resumes at the last epoch and rewrites all three). Run by
        hand, the checkpoint is the commit: removed before its siblings are replaced and written after them,
        a checkpoint on disk always has its own run's history and metrics beside it, and ``compress`` (which
        reads only the checkpoint) never pairs a new history with an old model."""
        from pipeline.io.checkpoints import save_checkpoint
        from pipeline.io.files import write_csv, write_json

        self.checkpoint(seed).unlink(missing_ok=True)
        write_csv(self.history(seed), history)
        write_json(self.metrics(seed), dict(metrics))
        save_checkpoint(self.checkpoint(seed), state, meta)
