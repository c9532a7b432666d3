"""Checkpoints as safetensors: loading one (say, pulled from a shared remote) cannot run code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.io.files import atomic_path

if TYPE_CHECKING:
    import torch

# safetensors keeps its string metadata in a hash map whose order changes from process to process, so
# several keys would make the same checkpoint differ in bytes; one key holding sorted JSON does not.
METADATA_KEY = "pipeline"


def save_checkpoint(path: Path, state: Mapping[str, torch.Tensor], metadata: Mapping[str, Any]) -> None:
    """safetensors file of ``state`` with ``metadata`` as sorted JSON under one key (byte-deterministic)."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    text = {METADATA_KEY: json.dumps(metadata, sort_keys=True)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=text)


def load_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(state dict, metadata) of a safetensors checkpoint; no code is executed."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        state = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118 (safe_open API)
        raw = handle.metadata() or {}
    if METADATA_KEY not in raw:
        raise ValueError(f"{path}: not a checkpoint of this project (no {METADATA_KEY!r} metadata)")
    return state, json.loads(raw[METADATA_KEY])
