"""Typed, validated view of ``params.yaml``.

Every stage loads the whole file into frozen dataclasses before doing any work, so a typo anywhere fails
fast with one line that names the key and what is allowed, and nothing is written.  Each field carries
its constraints in ``metadata`` (see :func:`option`); the generic :func:`build` walks the dataclass tree,
checks types, ranges and names, and rejects keys the dataclasses do not know.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from pipeline.errors import ConfigError

T = TypeVar("T")


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


# The largest seed of every seed-like option: torch.manual_seed fails beyond 64 bits with a traceback;
# 32 bits (numpy's legacy seed range) also leaves room for derived seeds (seed + an offset).
MAX_SEED = 2**32 - 1


def _dataset_names() -> Any:
    from pipeline.data import DATASET_NAMES

    return DATASET_NAMES


def _arch_check() -> Any:
    from pipeline.models import ArchNames

    return ArchNames()


@dataclass(frozen=True)
class SyntheticParams:
    """Shape of the generated ``synthetic`` dataset (tests and smoke runs)."""

    num_classes: int = option(4, doc="number of classes", ge=2, le=1000)
    image_size: int = option(16, doc="height and width in pixels", ge=8, le=512)
    channels: int = option(1, doc="1 (grayscale) or 3 (RGB)", ge=1, le=3)
    train_size: int = option(512, doc="training images (before the validation split)", ge=8)
    test_size: int = option(256, doc="test images", ge=4)


@dataclass(frozen=True)
class PrepareParams:
    """Which dataset, where to find it, and how the validation split is carved."""

    dataset: str = option("fashion_mnist", doc="dataset registry name", choices=_dataset_names)
    root: str | None = option(
        None, doc="an existing folder the dataset's files are read from (never written); null: data/raw"
    )
    val_fraction: float = option(
        0.1, doc="fraction of the training split held out for validation", ge=0.0, lt=0.5
    )
    split_seed: int = option(0, doc="seed of the validation carve-out", ge=0, le=MAX_SEED)
    image_size: int | None = option(
        None, doc="resize side for variable-size datasets (gtsrb, celeba, imagefolder)", ge=8, le=512
    )
    celeba_target: str = option("Blond_Hair", doc="CelebA attribute used as the binary label")
    allow_download: bool = option(True, doc="let torchvision download when no local copy exists")
    synthetic: SyntheticParams = option(SyntheticParams(), doc="shape of the synthetic dataset")

    def check(self, where: str) -> None:
        if self.root is not None and not self.root.strip():
            _fail(f"{where}.root", f"must be null for data/raw, or a folder; got {self.root!r}")


@dataclass(frozen=True)
class ModelParams:
    """The architecture of every member."""

    arch: str = option("small_cnn", doc="model registry name or any timm model name", choices=_arch_check)


OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("onecycle", "cosine", "constant")
AUGMENTATIONS = ("hflip", "shift")
DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class TrainParams:
    """The recipe that trains one dense member."""

    epochs: int = option(10, doc="passes over the training split", ge=1, le=1000)
    batch_size: int = option(256, doc="images per optimizer step", ge=1, le=65536)
    optimizer: str = option("sgd", doc="sgd (Nesterov momentum) or adamw", choices=lambda: OPTIMIZERS)
    lr: float = option(0.1, doc="peak learning rate", gt=0.0, le=10.0)
    momentum: float = option(
        0.9, doc="SGD momentum / AdamW beta1 (onecycle cycles it 0.95 -> 0.85 -> 0.95)", ge=0.0, lt=1.0
    )
    weight_decay: float = option(5e-4, doc="decoupled for adamw, L2 for sgd", ge=0.0, lt=1.0)
    label_smoothing: float = option(0.0, doc="cross-entropy label smoothing", ge=0.0, lt=1.0)
    schedule: str = option("onecycle", doc="learning-rate schedule", choices=lambda: SCHEDULES)
    warmup_fraction: float = option(0.2, doc="onecycle: fraction of steps spent warming up", gt=0.0, lt=1.0)
    augment: tuple[str, ...] = option(
        ("hflip",), doc="batch augmentations", choices=lambda: AUGMENTATIONS, unique=True
    )
    eval_batch_size: int = option(2048, doc="images per evaluation batch", ge=1, le=65536)


@dataclass(frozen=True)
class RuntimeParams:
    """How every torch stage runs: thread count and device (they can change the last bits of a result)."""

    threads: int = option(0, doc="torch intra-op threads; 0: all cores", ge=0, le=1024)
    device: str = option("cpu", doc="cpu or cuda", choices=lambda: DEVICES)


@dataclass(frozen=True)
class PopulationParams:
    """The dense population: one member per seed."""

    seeds: tuple[int, ...] = option(
        (0, 1, 2, 3, 4), doc="member seeds", ge=0, le=MAX_SEED, nonempty=True, unique=True
    )


PRUNE_METHODS = ("magnitude", "random", "structured")
PRUNE_SCOPES = ("layer", "global")
PRUNE_SCHEDULES = ("oneshot", "finetune", "gradual")
QUANT_METHODS = ("fp16", "bf16", "int8_dynamic", "int8_static", "int4_weight")
# Weight bit widths each quantization method supports; the first is its default.
QUANT_WEIGHT_BITS: dict[str, tuple[int, ...]] = {
    "fp16": (16,),
    "bf16": (16,),
    "int8_dynamic": (8,),
    "int8_static": (8,),
    "int4_weight": (4, 3, 2),
}
# A config name is a DVC stage key (``compress@<name>-<seed>``) and a params key
# (``compress.configs.<name>``): no ``-`` (it joins matrix names), no ``.`` (DVC could not address the key),
# no ``/`` or spaces (it is a folder name too).
DENSE = "dense"  # the config that compresses nothing: the dense members, every other config's reference
CONFIG_NAME = re.compile(r"[a-z0-9][a-z0-9_+]*")
CONFIG_NAME_MAX = 64


def _fail(key: str, message: str) -> None:
    raise ConfigError(f"{key}: {message}")


@dataclass(frozen=True)
class PruneSpec:
    """Unstructured (or channel) pruning of the prunable weights (SPEC section 5.1)."""

    method: str = option("magnitude", doc="magnitude, random or structured", choices=lambda: PRUNE_METHODS)
    scope: str = option("layer", doc="layer: per tensor; global: one threshold", choices=lambda: PRUNE_SCOPES)
    sparsity: float = option(0.5, doc="target fraction of zero weights", ge=0.0, lt=1.0)
    schedule: str = option("finetune", doc="oneshot, finetune or gradual", choices=lambda: PRUNE_SCHEDULES)
    finetune_epochs: float = option(1.0, doc="training epochs after (or while) pruning", ge=0.0, le=100.0)
    lr: float = option(0.05, doc="fine-tuning peak learning rate (cosine decay)", gt=0.0, le=10.0)
    initial_sparsity: float = option(0.0, doc="gradual: sparsity at the window start", ge=0.0, lt=1.0)
    end_fraction: float = option(0.75, doc="gradual: window end, as a share of fine-tuning", gt=0.0, le=1.0)
    frequency: int = option(20, doc="gradual: optimizer steps between mask updates", ge=1)
    include_classifier: bool = option(False, doc="prune the final classifier too")

    def check(self, where: str) -> None:
        if self.schedule == "oneshot" and self.finetune_epochs > 0:
            _fail(f"{where}.finetune_epochs", "must be 0 with schedule oneshot (use finetune to train)")
        if self.schedule != "oneshot" and self.finetune_epochs == 0:
            _fail(f"{where}.finetune_epochs", f"must be > 0 with schedule {self.schedule}")
        if self.method == "structured" and self.scope == "global":
            _fail(f"{where}.scope", "structured pruning ranks channels within each layer; use layer")
        if self.schedule == "gradual" and self.initial_sparsity > self.sparsity:
            _fail(f"{where}.initial_sparsity", f"must be <= sparsity ({self.sparsity})")


@dataclass(frozen=True)
class QuantSpec:
    """Post-training quantization with simulated numerics (SPEC section 5.2)."""

    method: str = option("int8_static", doc="quantization method", choices=lambda: QUANT_METHODS)
    weight_bits: int | None = option(None, doc="weight bit width; null: the method's default", ge=2, le=16)
    calibration_size: int = option(512, doc="int8_static: seeded training images for ranges", ge=1)
    calibration_seed: int = option(0, doc="int8_static: seed of the calibration sample", ge=0, le=MAX_SEED)

    @property
    def bits(self) -> int:
        """Weight bit width in effect."""
        return self.weight_bits if self.weight_bits is not None else QUANT_WEIGHT_BITS[self.method][0]

    def check(self, where: str) -> None:
        allowed = QUANT_WEIGHT_BITS[self.method]
        if self.weight_bits is not None and self.weight_bits not in allowed:
            bits = ", ".join(map(str, allowed))
            message = f"unsupported bit width {self.weight_bits} for {self.method}; allowed: {bits}"
            _fail(f"{where}.weight_bits", message)


@dataclass(frozen=True)
class CompressionConfig:
    """One named recipe: pruning and/or quantization; neither is the dense reference."""

    prune: PruneSpec | None = option(None, doc="pruning, or null")
    quantize: QuantSpec | None = option(None, doc="quantization, or null")

    @property
    def is_dense(self) -> bool:
        return self.prune is None and self.quantize is None


def _default_configs() -> dict[str, CompressionConfig]:
    def prune(sparsity: float, method: str = "magnitude", scope: str = "layer") -> PruneSpec:
        return PruneSpec(method=method, scope=scope, sparsity=sparsity)

    configs = {DENSE: CompressionConfig()}
    configs |= {f"magnitude_{p}": CompressionConfig(prune(p / 100)) for p in (30, 50, 70, 90)}
    configs["global_magnitude_90"] = CompressionConfig(prune(0.9, scope="global"))
    configs["random_90"] = CompressionConfig(prune(0.9, method="random"))
    for method in ("fp16", "int8_dynamic", "int8_static", "int4_weight"):
        configs[method] = CompressionConfig(quantize=QuantSpec(method=method))
    configs["magnitude_70+int8_static"] = CompressionConfig(prune(0.7), QuantSpec(method="int8_static"))
    return configs


@dataclass(frozen=True)
class CompressParams:
    """The compression grid: every config is applied to every dense member."""

    configs: dict[str, CompressionConfig] = option(_default_configs(), doc="config name -> recipe")

    def check(self, where: str) -> None:
        key = f"{where}.configs"
        if DENSE not in self.configs or not self.configs[DENSE].is_dense:
            _fail(f"{key}.{DENSE}", "must exist and compress nothing ({}): it is the reference population")
        for name, cfg in self.configs.items():
            if len(name) > CONFIG_NAME_MAX or not CONFIG_NAME.fullmatch(name):
                rule = f"1 to {CONFIG_NAME_MAX} characters of a-z, 0-9, _ and +, the first a-z or 0-9"
                _fail(f"{key}.{name}", f"config names are {rule}")
            if cfg.is_dense and name != DENSE:
                _fail(f"{key}.{name}", "compresses nothing; give it prune and/or quantize")


@dataclass(frozen=True)
class PredictParams:
    """How populations predict on the test split."""

    batch_size: int = option(128, doc="images per forward pass", ge=1, le=65536)


@dataclass(frozen=True)
class StatsParams:
    """The per-class test, intervals and calibration (SPEC section 7)."""

    alpha: float = option(0.05, doc="a class is impacted when its Welch t-test gives p <= alpha", gt=0, lt=1)
    fdr: float = option(0.05, doc="Benjamini-Hochberg false discovery rate for the second count", gt=0, lt=1)
    confidence: float = option(0.95, doc="level of every reported interval", gt=0, lt=1)
    power: float = option(
        0.8, doc="power at which each class's detectable recall change is computed", gt=0, lt=1
    )
    detect_change: float = option(
        0.01, doc="recall change (fraction: 0.01 is 1 point) to report the members needed for", gt=0, le=1
    )
    ece_bins: int = option(
        15, doc="equal-width confidence bins of the expected calibration error", ge=1, le=1000
    )
    confusion_top: int = option(10, doc="largest confusion increases listed per config", ge=0)
    subgroup_attributes: tuple[str, ...] = option(
        (),
        doc="attributes to split the test set by (empty: all the dataset carries)",
        nonempty=False,
        unique=True,
    )


@dataclass(frozen=True)
class PieParams:
    """Pruning identified exemplars and their browsable export (SPEC section 8)."""

    gallery_max: int = option(0, doc="PIEs drawn per config, in gallery_order (0: all)", ge=0)
    gallery_order: str = option(
        "disputed",
        doc="order of the gallery: disputed (graded score), mislabelled (cleanlab's label quality, lowest "
        "first), atypical (farthest from their class), uncertain (least dense vote agreement)",
        choices=lambda: ("disputed", "mislabelled", "atypical", "uncertain"),
    )
    gallery_columns: int = option(8, doc="images per row of a gallery page", ge=1, le=64)
    gallery_rows: int = option(8, doc="rows per gallery page", ge=1, le=64)
    gallery_cell: int = option(96, doc="pixel side of each image in the gallery", ge=16, le=512)


def _corruption_names() -> Any:
    from pipeline.robustness import CORRUPTION_NAMES

    return CORRUPTION_NAMES


def _saliency_methods() -> Any:
    from pipeline.saliency import METHODS

    return METHODS


@dataclass(frozen=True)
class SaliencyParams:
    """Saliency maps of every member on one fixed sample of test images (SPEC section 9)."""

    method: str = option(
        "gradient",
        doc="gradient | integrated_gradients | grad_cam (through captum)",
        choices=_saliency_methods,
    )
    sample_size: int = option(
        256, doc="test images in the fixed, seeded sample (0: the whole test split)", ge=0
    )
    sample_seed: int = option(0, doc="seed of that sample", ge=0, le=MAX_SEED)
    steps: int = option(32, doc="integrated_gradients only: steps of the path integral", ge=2, le=1024)
    examples: int = option(4, doc="images drawn per config (dense and compressed maps side by side)", ge=0)


@dataclass(frozen=True)
class CorruptParams:
    """The corrupted test views every config's population predicts on (SPEC section 10)."""

    corruptions: tuple[str, ...] = option(
        (), doc="corruptions of the suite to run (empty: all of them)", choices=_corruption_names, unique=True
    )
    severities: tuple[int, ...] = option(
        (1, 3, 5), doc="severities to run, each in 1..5", ge=1, le=5, nonempty=True, unique=True
    )
    sample_size: int = option(
        1000, doc="test images in each corrupted view, a fixed seeded sample (0: the whole test split)", ge=0
    )
    seed: int = option(0, doc="seed of that sample and of the corruptions' randomness", ge=0, le=MAX_SEED)


@dataclass(frozen=True)
class RepresentationsParams:
    """Representation similarity and activation maximization (SPEC section 11)."""

    sample_size: int = option(
        1000, doc="test images whose activations are compared (0: the whole test split)", ge=0
    )
    sample_seed: int = option(0, doc="seed of that sample", ge=0, le=MAX_SEED)
    svcca_keep: float = option(0.99, doc="share of variance SVCCA keeps on each side", gt=0, le=1)
    units: int = option(4, doc="activation maximization: units (channels) of the last conv layer", ge=0)
    steps: int = option(128, doc="activation maximization: gradient-ascent steps", ge=1)
    lr: float = option(0.05, doc="activation maximization: Adam step size", gt=0)


@dataclass(frozen=True)
class Params:
    """The whole of params.yaml."""

    prepare: PrepareParams = option(
        PrepareParams(), doc="dataset section: what the prepare stage reads and splits"
    )
    model: ModelParams = option(ModelParams(), doc="architecture section")
    train: TrainParams = option(TrainParams(), doc="training recipe section")
    runtime: RuntimeParams = option(RuntimeParams(), doc="threads and device of every torch stage")
    population: PopulationParams = option(PopulationParams(), doc="population section")
    compress: CompressParams = option(CompressParams(), doc="compression grid section")
    predict: PredictParams = option(PredictParams(), doc="prediction section")
    stats: StatsParams = option(StatsParams(), doc="statistics section")
    pie: PieParams = option(PieParams(), doc="PIE section")
    saliency: SaliencyParams = option(SaliencyParams(), doc="saliency section")
    corrupt: CorruptParams = option(CorruptParams(), doc="corrupted test views section (the corrupt stage)")
    representations: RepresentationsParams = option(RepresentationsParams(), doc="representations section")


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
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: must be a mapping of names, got {value!r}")
        item = typing.get_args(hint)[1]
        return {str(k): _coerce(item, v, f"{key}.{k}") for k, v in value.items()}
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
    if data is None and where:  # `train:` with nothing under it would silently take every default
        raise ConfigError(f"{where}: must be a mapping of its settings, got null")
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
    obj = cls(**values)
    check = getattr(obj, "check", None)
    if check is not None:
        check(where)  # rules that involve several keys
    return obj


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key written twice in one mapping is an error (safe_load keeps
    the last one silently, so an edit to the first would do nothing)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # ``<<: *anchor`` merges keys that the mapping may then override
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in lines:
                raise ConfigError(f"{key}: duplicate key on line {line} (first on line {lines[key]})")
            lines[key] = line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> Any:
    """The YAML document of ``path``, with duplicate keys an error (see :class:`_UniqueKeyLoader`)."""
    return yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # a SafeLoader: builds plain data only


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate the whole params file; raise ConfigError with the file name on any problem."""
    path = Path(path)
    try:
        raw = read_yaml(path)
        return build(Params, raw, "")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(err).split())})") from None
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def config_of(params: Params, name: str) -> CompressionConfig:
    """The compression config called ``name``; a ConfigError lists the defined ones."""
    configs = params.compress.configs
    if name not in configs:
        raise ConfigError(f"compress.configs: no config named {name!r}; defined: {', '.join(configs)}")
    return configs[name]


def to_dict(obj: Any) -> Any:
    """A plain, JSON-ready dict of a config (tuples as lists), for metadata and logs."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj
