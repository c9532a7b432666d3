"""The outputs of the stages the report summarizes, read into plain containers (SPEC section 12).

Every file is read through the module that owns its layout (pipeline/io/: predictions, stats, pie,
robustness, saliency, representations), so no other stage's file name or column is spelled here. Every
required file is read before anything is drawn, so a missing one stops the stage with a one-line error
naming it and the stage to rerun. Optional are the dense config's own saliency, robustness and
representations summaries (dense is the reference: its numbers against itself carry no information) and
the images (a config without PIEs has no gallery page).  JSON nulls stay ``None``; empty CSV cells become
``None``.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import DENSE, CompressionConfig, ConfigError, Params
from pipeline.io import pie as pie_io
from pipeline.io import robustness as robustness_io
from pipeline.io import stats as stats_io
from pipeline.io.predictions import PredictFolder, read_clean_summary
from pipeline.io.representations import RepresentationsFolder
from pipeline.io.saliency import SaliencyFolder

DATASET_TITLES = {
    "fashion_mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "gtsrb": "GTSRB",
    "celeba": "CelebA",
    "imagefolder": "an image-folder dataset",
    "synthetic": "the synthetic test dataset",
}


@dataclass(frozen=True)
class Folders:
    """The output folders of the stages the report reads (dvc.yaml's ``data/<stage>``)."""

    predict: Path
    stats: Path
    pie: Path
    saliency: Path
    robustness: Path
    representations: Path


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
    predict: Mapping[str, Mapping[str, Any]]  # config -> its clean predict summary (config, members)
    stats: Mapping[str, Any]  # the stats summary (alpha, fdr, noise_floor, configs)
    per_class: Mapping[str, list[dict[str, Any]]]  # config -> the stats stage's class rows
    confusion: Mapping[str, np.ndarray]  # compressed config -> (K, K) compressed - dense rates, rows true
    confusion_changes: list[dict[str, Any]]  # the stats stage's confusion-change rows
    pie: Mapping[str, Any]  # the pie summary
    pie_overlap: list[dict[str, Any]]  # the pie stage's overlap rows
    galleries: Mapping[str, list[Path]]  # compressed config -> its gallery pages, in order
    saliency: Mapping[str, Mapping[str, Any] | None]
    robustness: Mapping[str, Mapping[str, Any] | None]
    representations: Mapping[str, Mapping[str, Any] | None]
    saliency_images: Mapping[str, Path | None]  # config -> its saliency examples image
    activation_images: Mapping[str, Path | None]  # config -> its activation-maximization image

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


# ------------------------------------------------------------------------------------------------ reading


def read_inputs(params: Params, folders: Folders) -> Inputs:
    """Read every stage output the report uses; a missing or damaged required file is a one-line error
    naming it (InputCorrupt), an output without an entry for a config of params.yaml a ConfigError."""
    study = study_of(params)
    configs, compressed = study.configs, study.compressed
    saliency, representations = (
        SaliencyFolder(folders.saliency),
        RepresentationsFolder(folders.representations),
    )
    return Inputs(
        study=study,
        predict={name: read_clean_summary(PredictFolder(folders.predict), name) for name in configs},
        stats=_with_configs(stats_io.read_summary(folders.stats), folders.stats, "stats", configs),
        per_class={name: stats_io.read_per_class(folders.stats, name) for name in configs},
        confusion={name: stats_io.read_confusion_diff(folders.stats, name) for name in compressed},
        confusion_changes=stats_io.read_confusion_changes(folders.stats),
        pie=_with_configs(pie_io.read_summary(folders.pie), folders.pie, "pie", compressed),  # dense: no PIEs
        pie_overlap=pie_io.read_overlap(folders.pie),
        galleries={name: pie_io.PieFolder(folders.pie).galleries(name) for name in compressed},
        saliency={name: saliency.read_summary(name, required=name != DENSE) for name in configs},
        robustness={name: read_robustness(folders.robustness, name, name != DENSE) for name in configs},
        representations={
            name: representations.read_summary(name, required=name != DENSE) for name in configs
        },
        saliency_images={name: saliency.examples_image(name) for name in configs},
        activation_images={name: representations.activation_image(name) for name in configs},
    )


def read_robustness(root: Path, config: str, required: bool) -> Any:
    """The config's robustness summary; None when it is missing and not ``required``."""
    path = robustness_io.RobustnessFolder(root).summary(config)
    return robustness_io.read_summary(root, config) if required or path.is_file() else None


def _with_configs(summary: Any, folder: Path, stage: str, configs: Sequence[str]) -> Any:
    """``summary`` (a fan-in stage's), checked to hold an entry for each of ``configs``."""
    missing = [name for name in configs if name not in summary["configs"]]
    if missing:
        raise ConfigError(
            f"{folder}: the {stage} summary has no entry for config(s) {', '.join(missing)}; rerun the stage"
        )
    return summary
