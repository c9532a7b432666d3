"""Typed, validated view of ``params.yaml``.

Every stage loads the whole file into frozen dataclasses before doing any work, so a typo anywhere fails
fast with one line that names the key and what is allowed, and nothing is written.  Each field carries
its constraints in ``metadata`` (see :func:`option`); the generic :func:`build` walks the dataclass tree,
checks types, ranges and names, and rejects keys the dataclasses do not know.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A bad value in params.yaml; the message is one line naming the key."""


def option(
    default: Any = dataclasses.MISSING,
    *,
    doc: str,
    ge: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    choices: Callable[[], Any] | None = None,
    nonempty: bool = False,
    unique: bool = False,
) -> Any:
    """A dataclass field with its documentation and constraints.

    ``choices`` is a thunk returning the allowed names (a registry), evaluated at validation time so
    that this module imports no registry and no torch.  For tuple fields the constraints apply to
    every item.
    """
    meta = {"doc": doc, "ge": ge, "gt": gt, "lt": lt, "le": le, "choices": choices}
    meta |= {"nonempty": nonempty, "unique": unique}
    if isinstance(default, (list, dict, tuple)) or dataclasses.is_dataclass(default):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


# ---------------------------------------------------------------------------------------------- sections


def _dataset_names() -> Any:
    from pipeline.data import DATASETS

    return DATASETS


def _arch_check() -> Any:
    from pipeline.models import ArchNames

    return ArchNames()


@dataclass(frozen=True)
class SyntheticConfig:
    """Shape of the generated ``synthetic`` dataset (tests and smoke runs)."""

    num_classes: int = option(4, doc="number of classes", ge=2, le=1000)
    image_size: int = option(16, doc="height and width in pixels", ge=8, le=512)
    channels: int = option(1, doc="1 (grayscale) or 3 (RGB)", ge=1, le=3)
    train_size: int = option(512, doc="training images (before the validation split)", ge=8)
    test_size: int = option(256, doc="test images", ge=4)


@dataclass(frozen=True)
class DataConfig:
    """Which dataset, where to find it, and how the validation split is carved."""

    dataset: str = option("fashion_mnist", doc="dataset registry name", choices=_dataset_names)
    root: str | None = option(
        None, doc="local root with the dataset's files; null: data/raw (downloads go there)"
    )
    val_fraction: float = option(
        0.1, doc="fraction of the training split held out for validation", ge=0.0, lt=0.5
    )
    split_seed: int = option(0, doc="seed of the validation carve-out", ge=0)
    image_size: int | None = option(
        None, doc="resize side for variable-size datasets (gtsrb, celeba, imagefolder)", ge=8, le=512
    )
    celeba_target: str = option("Blond_Hair", doc="CelebA attribute used as the binary label")
    allow_download: bool = option(True, doc="let torchvision download when no local copy exists")
    synthetic: SyntheticConfig = option(SyntheticConfig(), doc="shape of the synthetic dataset")


@dataclass(frozen=True)
class ModelConfig:
    """The architecture of every member."""

    arch: str = option("small_cnn", doc="model registry name or any timm model name", choices=_arch_check)


OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("onecycle", "cosine", "constant")
AUGMENTATIONS = ("hflip", "shift")
DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class TrainConfig:
    """The recipe that trains one dense member."""

    epochs: int = option(7, doc="passes over the training split", ge=1, le=1000)
    batch_size: int = option(256, doc="images per optimizer step", ge=1, le=65536)
    optimizer: str = option("sgd", doc="sgd (Nesterov momentum) or adamw", choices=lambda: OPTIMIZERS)
    lr: float = option(0.1, doc="peak learning rate", gt=0.0, le=10.0)
    momentum: float = option(0.9, doc="SGD momentum / Adam beta1", ge=0.0, lt=1.0)
    weight_decay: float = option(5e-4, doc="decoupled for adamw, L2 for sgd", ge=0.0, lt=1.0)
    label_smoothing: float = option(0.0, doc="cross-entropy label smoothing", ge=0.0, lt=1.0)
    schedule: str = option("onecycle", doc="learning-rate schedule", choices=lambda: SCHEDULES)
    warmup_fraction: float = option(0.2, doc="onecycle: fraction of steps spent warming up", gt=0.0, lt=1.0)
    augment: tuple[str, ...] = option(
        ("hflip",), doc="batch augmentations", choices=lambda: AUGMENTATIONS, unique=True
    )
    eval_batch_size: int = option(2048, doc="images per evaluation batch", ge=1, le=65536)
    threads: int = option(0, doc="torch intra-op threads; 0: all cores", ge=0, le=1024)
    device: str = option("cpu", doc="cpu or cuda", choices=lambda: DEVICES)


@dataclass(frozen=True)
class PopulationConfig:
    """The dense population: one member per seed."""

    seeds: tuple[int, ...] = option((0, 1, 2, 3, 4), doc="member seeds", ge=0, nonempty=True, unique=True)


@dataclass(frozen=True)
class Params:
    """The whole of params.yaml."""

    data: DataConfig = option(DataConfig(), doc="dataset section")
    model: ModelConfig = option(ModelConfig(), doc="architecture section")
    train: TrainConfig = option(TrainConfig(), doc="training recipe section")
    population: PopulationConfig = option(PopulationConfig(), doc="population section")


# -------------------------------------------------------------------------------------------- validation


def _type_name(hint: Any) -> str:
    if hint is type(None):
        return "null"
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if typing.get_origin(hint) is tuple:
        return f"a list of {_type_name(typing.get_args(hint)[0])}"
    if dataclasses.is_dataclass(hint):
        return "a mapping"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[hint]


def _coerce(hint: Any, value: Any, key: str) -> Any:
    """Convert a YAML value to ``hint`` or raise a ConfigError naming ``key``."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(inner, value, key)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: must be {_type_name(hint)}, got {value!r}")
        item = typing.get_args(hint)[0]
        return tuple(_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(hint):
        return build(hint, value, key)  # type: ignore[arg-type]
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
    }[hint]
    if not ok:
        raise ConfigError(f"{key}: must be {_type_name(hint)}, got {value!r}")
    return float(value) if hint is float else value


_BOUNDS = (
    ("ge", ">=", lambda a, b: a >= b),
    ("gt", ">", lambda a, b: a > b),
    ("le", "<=", lambda a, b: a <= b),
    ("lt", "<", lambda a, b: a < b),
)


def _check_bounds(value: float, meta: Mapping[str, Any], key: str) -> None:
    limits = [(sym, meta[name], holds) for name, sym, holds in _BOUNDS if meta.get(name) is not None]
    if not all(holds(value, limit) for _, limit, holds in limits):
        allowed = " and ".join(f"{sym} {limit}" for sym, limit, _ in limits)
        raise ConfigError(f"{key}: must be {allowed}, got {value!r}")


def _check_choice(value: str, meta: Mapping[str, Any], key: str) -> None:
    thunk = meta.get("choices")
    if thunk is None:
        return
    allowed = thunk()
    if value not in allowed:
        names = getattr(allowed, "describe", lambda: ", ".join(sorted(allowed)))()
        raise ConfigError(f"{key}: unknown name {value!r}; allowed: {names}")


def _check_value(value: Any, meta: Mapping[str, Any], key: str) -> None:
    items = value if isinstance(value, tuple) else (value,)
    if isinstance(value, tuple):
        if meta.get("nonempty") and not value:
            raise ConfigError(f"{key}: must not be empty")
        if meta.get("unique") and len(set(value)) != len(value):
            dupes = sorted({v for v in value if value.count(v) > 1})
            raise ConfigError(f"{key}: must not repeat items, got duplicates {dupes}")
    for i, item in enumerate(items):
        where = f"{key}[{i}]" if isinstance(value, tuple) else key
        if item is None:
            continue
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            _check_bounds(item, meta, where)
        if isinstance(item, str):
            _check_choice(item, meta, where)


def build(cls: type[T], data: Any, where: str) -> T:
    """Build the frozen dataclass ``cls`` from a YAML mapping, validating every key.

    ``where`` is the dotted key of this mapping (``"train"``), used in error messages.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for name in data:
        if name not in known:
            raise ConfigError(f"{_join(where, str(name))}: unknown key; allowed: {', '.join(known)}")
    values = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        key = _join(where, f.name)
        value = _coerce(hints[f.name], data[f.name], key)
        _check_value(value, f.metadata, key)
        values[f.name] = value
    return cls(**values)


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate the whole params file; raise ConfigError with the file name on any problem."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(err).split())})") from None
    try:
        return build(Params, raw, "")
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def to_dict(obj: Any) -> Any:
    """A plain, JSON-ready dict of a config (tuples as lists), for metadata and logs."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple):
        return [to_dict(v) for v in obj]
    return obj
