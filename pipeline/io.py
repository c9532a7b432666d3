"""Every read and write of the project's own files: the prepared dataset, checkpoints, JSON and CSV.

Writes are atomic (a temporary file renamed into place), so a failed stage leaves no half-written output.
Checkpoints are safetensors: loading one cannot run code, unlike a pickle.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.data.base import Split
from pipeline.data.prepare import SPLITS, Prepared

if TYPE_CHECKING:
    import torch

PREPARED_FORMAT = 1
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; outputs get the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows of equal keys as CSV with a header (the format DVC plots read)."""
    with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _save_npy(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.save(handle, np.ascontiguousarray(array), allow_pickle=False)


def save_prepared(folder: Path, data: Prepared) -> None:
    """``folder/{split}_{images,labels,attributes}.npy`` plus ``meta.json``, the last file written."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in SPLITS:
        split = data.split(name)
        _save_npy(folder / f"{name}_images.npy", split.images)
        _save_npy(folder / f"{name}_labels.npy", split.labels)
        if split.attributes is not None:
            _save_npy(folder / f"{name}_attributes.npy", split.attributes)
    meta = {
        "format": PREPARED_FORMAT,
        "name": data.name,
        "class_names": list(data.class_names),
        "attribute_names": list(data.attribute_names),
        "image_shape": list(data.image_shape),
        "sizes": {name: len(data.split(name)) for name in SPLITS},
        "sha256": data.sha256,
    }
    write_json(folder / "meta.json", meta)


def load_prepared(folder: Path) -> Prepared:
    """Inverse of :func:`save_prepared` (about 0.1 s for Fashion-MNIST); raises on a missing file."""
    folder = Path(folder)
    meta = read_json(folder / "meta.json")
    splits = {}
    for name in SPLITS:
        attrs = folder / f"{name}_attributes.npy"
        splits[name] = Split(
            np.load(folder / f"{name}_images.npy", allow_pickle=False),
            np.load(folder / f"{name}_labels.npy", allow_pickle=False),
            np.load(attrs, allow_pickle=False) if attrs.exists() else None,
        )
    return Prepared(
        meta["name"],
        tuple(meta["class_names"]),
        tuple(meta["attribute_names"]),
        **splits,
        sha256=meta["sha256"],
        source=str(folder),
    )


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
