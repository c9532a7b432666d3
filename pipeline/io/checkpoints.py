"""Checkpoints as safetensors: loading one (say, pulled from a shared remote) cannot run code, and one that
was altered or damaged is refused by the SHA-256 of its tensors, recorded in its metadata at save.

A checkpoint is a member (``data/train/seed_N/model.safetensors``, written by ``train``) or a cell
(``data/compress/<config>/seed_N.safetensors``, written by ``compress``). Its metadata is a
:class:`CheckpointMeta`, saved as one sorted JSON object under the key ``pipeline``, with the tensors'
digest beside its fields; :data:`FORMAT` versions that object, and a checkpoint of another format is
refused with one line saying what to rerun.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.compression.report import CompressionReport
from pipeline.config import (
    CompressionConfig,
    ModelParams,
    PrepareParams,
    QuantSpec,
    RuntimeParams,
    TrainParams,
    build,
    to_dict,
)
from pipeline.errors import ConfigError, InputCorrupt
from pipeline.io.files import atomic_path, reason

if TYPE_CHECKING:
    import torch

    from pipeline.config import Params
    from pipeline.data.prepare import Prepared

# safetensors keeps its string metadata in a hash map whose order changes from process to process, so
# several keys would make the same checkpoint differ in bytes; one key holding sorted JSON does not.
METADATA_KEY = "pipeline"
DIGEST_KEY = "tensors_sha256"  # in the metadata JSON, beside the CheckpointMeta fields
FORMAT = 2  # 2: typed metadata (CheckpointMeta); 1: the untyped dict of before, no longer read
KINDS = ("member", "cell")
REWRITE = "rerun the stage that wrote it or pull it again"
REGENERATE = "rerun `dvc repro` (train and compress rewrite every checkpoint)"


@dataclass(frozen=True)
class MemberParams:
    """The params sections a member was trained with (a cell's are its member's)."""

    prepare: PrepareParams
    model: ModelParams
    train: TrainParams
    runtime: RuntimeParams

    @classmethod
    def of(cls, params: Params) -> MemberParams:
        return cls(params.prepare, params.model, params.train, params.runtime)


@dataclass(frozen=True)
class CellMeta:
    """What makes a checkpoint a cell: its config's name and recipe, and what compressing achieved."""

    config: str
    compression: CompressionConfig
    report: CompressionReport


@dataclass(frozen=True)
class CheckpointMeta:
    """Everything a checkpoint records beside its tensors (saved as sorted JSON, ``format`` included).

    ``image_shape`` is (C, H, W); ``final_val_acc``: a member's validation top-1 after its last epoch
    (None for a cell); ``cell``: None for a member."""

    kind: str  # "member" or "cell"
    arch: str
    seed: int
    num_classes: int
    image_shape: tuple[int, ...]
    class_names: tuple[str, ...]
    dataset: str
    dataset_sha256: str
    params: MemberParams
    versions: dict[str, str]
    final_val_acc: float | None
    cell: CellMeta | None
    format: int = FORMAT

    def check(self, where: str) -> None:
        """The rules between fields (called by :func:`pipeline.config.build` as it reads them)."""
        if self.kind not in KINDS or (self.kind == "cell") != (self.cell is not None):
            raise ConfigError(f"{where}.kind: {self.kind!r} does not match its cell section")
        if len(self.image_shape) != 3 or len(self.class_names) != self.num_classes:
            raise ConfigError(f"{where}.image_shape: not (C, H, W) of {self.num_classes} classes")

    @property
    def size_ratio(self) -> float:
        """Storage bytes over the member's float32 bytes (1 for a member)."""
        return 1.0 if self.cell is None else self.cell.report.size_ratio

    @property
    def overall_sparsity(self) -> float:
        """Fraction of zero prunable weights (0 for a member and for a cell that was not pruned)."""
        return 0.0 if self.cell is None else self.cell.report.overall_sparsity

    @property
    def quant_spec(self) -> QuantSpec | None:
        """The quantization recipe whose structure the tensors need (None: float layers)."""
        return None if self.cell is None else self.cell.compression.quantize

    @classmethod
    def member(cls, params: Params, seed: int, data: Prepared, final_val_acc: float) -> CheckpointMeta:
        """The metadata of the member of ``seed`` trained by ``params`` on ``data``."""
        from pipeline.runtime import library_versions

        return cls(
            *("member", params.model.arch, seed, data.num_classes, data.image_shape, data.class_names),
            *(data.name, data.sha256, MemberParams.of(params), library_versions(), final_val_acc, None),
        )

    def to_cell(self, config: str, cfg: CompressionConfig, report: CompressionReport) -> CheckpointMeta:
        """This member's metadata as that of its cell of ``config`` (versions: this process's)."""
        from pipeline.runtime import library_versions

        cell = CellMeta(config, cfg, report)
        return replace(self, kind="cell", versions=library_versions(), final_val_acc=None, cell=cell)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = to_dict(self)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "metadata") -> CheckpointMeta:
        """Read back :meth:`to_json`; a ConfigError names the first key that is missing or wrong."""
        missing = [f.name for f in fields(cls) if f.default is MISSING and f.name not in data]
        if missing:
            raise ConfigError(f"{where}: lacks {', '.join(missing)}")
        try:
            return build(cls, data, where)
        except TypeError as err:  # a nested section lacks a field
            raise ConfigError(f"{where}: {err}") from None


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


def save_checkpoint(path: Path, state: Mapping[str, torch.Tensor], meta: CheckpointMeta) -> None:
    """safetensors file of ``state`` with ``meta`` and the tensors' digest as sorted JSON under one key
    (byte-deterministic)."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    record = meta.to_json() | {DIGEST_KEY: tensors_sha256(tensors)}
    text = {METADATA_KEY: json.dumps(record, sort_keys=True)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=text)


def load_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], CheckpointMeta]:
    """(state dict, metadata) of a checkpoint; no code is executed. A missing, truncated, garbled or
    altered file, another format or metadata that is not a :class:`CheckpointMeta` is an InputCorrupt
    naming the file."""
    state, raw = _read(Path(path))
    found = raw.pop("format", None)
    if found != FORMAT:
        raise InputCorrupt(
            f"{path}: checkpoint format {found}, this version reads format {FORMAT}; {REGENERATE}"
        )
    digest = raw.pop(DIGEST_KEY, None)
    if digest is None:
        raise InputCorrupt(f"{path}: no tensor digest in its metadata; {REWRITE}")
    if digest != tensors_sha256(state):
        raise InputCorrupt(f"{path}: tensor digest mismatch (the file was altered or damaged); {REWRITE}")
    try:
        meta = CheckpointMeta.from_json(raw)
    except ConfigError as err:
        raise InputCorrupt(
            f"{path}: its metadata does not describe a member or cell [{err}]; {REWRITE}"
        ) from None
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
