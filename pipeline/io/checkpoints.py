"""Checkpoints as safetensors: loading one (say, pulled from a shared remote) cannot run code, and one that
was altered or damaged is refused by the SHA-256 of its tensors, recorded in its metadata at save."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import InputCorrupt
from pipeline.io.files import atomic_path, reason

if TYPE_CHECKING:
    import torch

# safetensors keeps its string metadata in a hash map whose order changes from process to process, so
# several keys would make the same checkpoint differ in bytes; one key holding sorted JSON does not.
METADATA_KEY = "pipeline"
DIGEST_KEY = "tensors_sha256"  # in the metadata JSON; taken out again by load_checkpoint
REWRITE = "rerun the stage that wrote it or pull it again"


def tensors_sha256(state: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over the tensors sorted by name: each one's name, dtype and shape as a JSON line, then its
    raw bytes (the byte count follows from dtype and shape, so the stream parses one way only)."""
    import torch

    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().to("cpu").contiguous()
        digest.update(json.dumps([name, str(tensor.dtype), list(tensor.shape)]).encode() + b"\n")
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().data)  # the bytes, without a copy
    return digest.hexdigest()


def save_checkpoint(path: Path, state: Mapping[str, torch.Tensor], metadata: Mapping[str, Any]) -> None:
    """safetensors file of ``state`` with ``metadata`` and the tensors' digest as sorted JSON under one
    key (byte-deterministic)."""
    from safetensors.torch import save_file

    if DIGEST_KEY in metadata:
        raise ValueError(f"checkpoint metadata must not set {DIGEST_KEY!r}; save_checkpoint computes it")
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    text = {METADATA_KEY: json.dumps({**metadata, DIGEST_KEY: tensors_sha256(tensors)}, sort_keys=True)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=text)


def load_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(state dict, metadata as saved) of a safetensors checkpoint; no code is executed. A missing,
    truncated, garbled or altered file is an InputCorrupt naming it."""
    state, meta = _read(Path(path))
    digest = meta.pop(DIGEST_KEY, None)
    if digest is None:
        raise InputCorrupt(f"{path}: no tensor digest in its metadata (an older checkpoint); {REWRITE}")
    if digest != tensors_sha256(state):
        raise InputCorrupt(f"{path}: tensor digest mismatch (the file was altered or damaged); {REWRITE}")
    return state, meta


def _read(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and the metadata JSON, unchecked against each other."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            state = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118 (safe_open API)
            raw = handle.metadata() or {}
    except FileNotFoundError:
        raise InputCorrupt(f"{path}: missing; run the stage that writes it (train or compress)") from None
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise InputCorrupt(
            f"{path}: not a readable safetensors file (truncated or garbled) [{reason(err)}]; {REWRITE}"
        ) from None
    if METADATA_KEY not in raw:
        raise InputCorrupt(f"{path}: not a checkpoint of this project (no {METADATA_KEY!r} metadata)")
    try:
        meta = json.loads(raw[METADATA_KEY])
    except ValueError as err:
        raise InputCorrupt(f"{path}: its metadata is not valid JSON [{reason(err)}]; {REWRITE}") from None
    if not isinstance(meta, dict):
        raise InputCorrupt(f"{path}: its metadata is not a JSON object; {REWRITE}")
    return state, meta
