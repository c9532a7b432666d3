"""The outputs of the stages the report summarizes, read into plain containers (SPEC section 12).

Every required file is read before anything is drawn, so a missing one stops the stage with a one-line
ConfigError naming it.  Optional are the dense config's own saliency, robustness and representations
summaries (dense is the reference: its numbers against itself carry no information) and the images (a
config without PIEs has no gallery page).  JSON nulls stay ``None``; empty CSV cells become ``None``.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import CompressionConfig, ConfigError, Params
from pipeline.errors import InputCorrupt
from pipeline.io.files import read_json, read_npy, reason

DENSE = "dense"

# CSV columns kept as text; every other cell is read as a number or a boolean.
TEXT_COLUMNS = frozenset(
    {"config", "class_name", "true_name", "predicted_name", "config_a", "config_b", "layer", "kind"}
)

DATASET_NAMES = {
    "fashion_mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "gtsrb": "GTSRB",
    "celeba": "CelebA",
    "imagefolder": "an image-folder dataset",
    "synthetic": "the synthetic test dataset",
}


@dataclass(frozen=True)
class Folders:
    """Where the stages the report reads put their outputs: the folders of ``stats`` and ``pie``, and for
    the per-config stages a pattern of one config's folder with ``{config}`` (dvc.yaml's, e.g.
    ``data/predict/{config}.d``)."""

    predict: str
    stats: Path
    pie: Path
    saliency: str
    robustness: str
    representations: str

    def of(self, stage: str, config: str) -> Path:
        """The output folder of ``stage@config`` (stage: predict, saliency, robustness, representations)."""
        pattern: str = getattr(self, stage)
        return Path(pattern.replace("{config}", config))


@dataclass(frozen=True)
class Study:
    """What params.yaml says about the study: ``configs`` in params order with dense first."""

    dataset: str
    arch: str
    seeds: tuple[int, ...]
    configs: tuple[str, ...]
    kinds: Mapping[str, str]  # config -> dense, pruning, quantization, both or random control

    @property
    def compressed(self) -> tuple[str, ...]:
        return tuple(name for name in self.configs if name != DENSE)


@dataclass(frozen=True)
class Inputs:
    """Everything the page, the figures and the plot tables are made of."""

    study: Study
    predict: Mapping[str, Mapping[str, Any]]  # config -> predict summary.json
    stats: Mapping[str, Any]  # stats summary.json (alpha, fdr, noise_floor, configs)
    per_class: Mapping[str, list[dict[str, Any]]]  # config -> rows of stats/per_class/<config>.csv
    confusion: Mapping[str, np.ndarray]  # compressed config -> (K, K) compressed - dense rates, rows true
    confusion_changes: list[dict[str, Any]]  # rows of stats/confusion_changes.csv
    pie: Mapping[str, Any]  # pie summary.json
    pie_overlap: list[dict[str, Any]]  # rows of pie/overlap.csv
    galleries: Mapping[str, list[Path]]  # compressed config -> its gallery pages, in order
    saliency: Mapping[str, Mapping[str, Any] | None]
    robustness: Mapping[str, Mapping[str, Any] | None]
    representations: Mapping[str, Mapping[str, Any] | None]
    saliency_images: Mapping[str, Path | None]  # config -> examples.png
    activation_images: Mapping[str, Path | None]  # config -> activation_max.png

    def stats_of(self, config: str) -> Mapping[str, Any]:
        return self.stats["configs"][config]

    def pie_of(self, config: str) -> Mapping[str, Any] | None:
        return self.pie["configs"].get(config)

    @property
    def class_names(self) -> list[str]:
        return [str(row["class_name"]) for row in self.per_class[DENSE]]

    @property
    def test_examples(self) -> int | None:
        counts = [row["examples"] for row in self.per_class[DENSE]]
        return None if any(c is None for c in counts) else int(sum(counts))

    def dense_robustness(self) -> Mapping[str, Any] | None:
        """A robustness summary whose ``dense_*`` entries give the dense curves (the same in all)."""
        return next((s for s in self.robustness.values() if s is not None), None)


CONTROL = "random control"  # the kind of random pruning, the control of SPEC section 5.1


def kind_of(cfg: CompressionConfig) -> str:
    """dense, random control (random pruning, with or without quantization), both, pruning or quantization."""
    if cfg.is_dense:
        return "dense"
    if cfg.prune is not None and cfg.prune.method == "random":
        return CONTROL
    if cfg.prune is not None and cfg.quantize is not None:
        return "both"
    return "pruning" if cfg.prune is not None else "quantization"


def study_of(params: Params) -> Study:
    configs = params.compress.configs
    names = (DENSE, *(name for name in configs if name != DENSE))
    return Study(
        dataset=params.prepare.dataset,
        arch=params.model.arch,
        seeds=tuple(params.population.seeds),
        configs=names,
        kinds={name: kind_of(configs[name]) for name in names},
    )


def member_mean(members: Iterable[Mapping[str, Any]], key: str) -> float | None:
    """Mean of ``key`` over the members that define it; None when none does."""
    values = [float(m[key]) for m in members if m.get(key) is not None]
    return statistics.fmean(values) if values else None


def finite(value: Any) -> float | None:
    """``value`` as a float, or None for a missing or non-finite number."""
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


# ------------------------------------------------------------------------------------------------ reading


def require(path: Path) -> Path:
    if not path.is_file():
        raise ConfigError(f"{path}: file not found (an output of an earlier stage; run it first)")
    return path


def read_summary(path: Path) -> Any:
    return read_json(require(path))


def optional_summary(path: Path) -> Any:
    return read_json(path) if path.is_file() else None


def read_rows(path: Path) -> list[dict[str, Any]]:
    """A CSV table with numbers parsed, "True"/"False" as booleans and empty cells as None; a garbled
    file is an InputCorrupt naming it."""
    path = require(path)
    try:
        with path.open(newline="") as handle:
            return [{k: _cell(k, v) for k, v in row.items()} for row in csv.DictReader(handle)]
    except (ValueError, TypeError, csv.Error) as err:  # a cell not a number, bad UTF-8, a short row
        raise InputCorrupt(f"{path}: not a readable table (truncated or garbled) [{reason(err)}]") from None


def _cell(column: str, text: str) -> Any:
    if column in TEXT_COLUMNS:
        return text
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    try:
        return int(text)
    except ValueError:
        return float(text)


def read_inputs(params: Params, folders: Folders) -> Inputs:
    """Read every stage output the report uses; a missing required file is a ConfigError naming it."""
    study = study_of(params)
    compressed = study.compressed
    stats = read_summary(folders.stats / "summary.json")
    _check_configs(folders.stats / "summary.json", stats["configs"], study.configs)
    pie = read_summary(folders.pie / "summary.json")
    _check_configs(folders.pie / "summary.json", pie["configs"], compressed)  # dense has no PIEs

    def optional_image(stage: str, name: str, file: str) -> Path | None:
        path = folders.of(stage, name) / file
        return path if path.is_file() else None

    def per_config(stage: str) -> dict[str, Any]:
        def read(name: str) -> Any:  # the dense config's own comparison is optional
            path = folders.of(stage, name) / "summary.json"
            return optional_summary(path) if name == DENSE else read_summary(path)

        return {name: read(name) for name in study.configs}

    return Inputs(
        study=study,
        predict={name: read_summary(folders.of("predict", name) / "summary.json") for name in study.configs},
        stats=stats,
        per_class={name: read_rows(folders.stats / "per_class" / f"{name}.csv") for name in study.configs},
        confusion={
            name: _read_npy(folders.stats / "confusion" / "diff" / f"{name}.npy") for name in compressed
        },
        confusion_changes=read_rows(folders.stats / "confusion_changes.csv"),
        pie=pie,
        pie_overlap=read_rows(folders.pie / "overlap.csv"),
        galleries={name: sorted((folders.pie / name).glob("gallery_*.png")) for name in compressed},
        saliency=per_config("saliency"),
        robustness=per_config("robustness"),
        representations=per_config("representations"),
        saliency_images={n: optional_image("saliency", n, "examples.png") for n in study.configs},
        activation_images={
            n: optional_image("representations", n, "activation_max.png") for n in study.configs
        },
    )


def _check_configs(path: Path, entries: Mapping[str, Any], configs: Sequence[str]) -> None:
    missing = [name for name in configs if name not in entries]
    if missing:
        raise ConfigError(f"{path}: no entry for config(s) {', '.join(missing)}; rerun the stage")


def _read_npy(path: Path) -> np.ndarray:
    return read_npy(require(path), writer="stats")
