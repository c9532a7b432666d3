"""A tiny study of members for the stages that load checkpoints (saliency, representations): untrained
small CNNs on the synthetic dataset (1x16x16, 4 classes), a pruned and quantized variants of each."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
import yaml

from pipeline.compression.quantization import quantize
from pipeline.compression.report import CompressionReport
from pipeline.config import CompressionConfig, CompressParams, PopulationParams, PruneSpec, QuantSpec, to_dict
from pipeline.data.prepare import Prepared
from pipeline.io.checkpoints import CheckpointMeta, save_checkpoint
from pipeline.io.compress import CompressFolder
from pipeline.io.prepared import save_prepared
from pipeline.io.representations import RepresentationsFolder
from pipeline.io.saliency import SaliencyFolder
from pipeline.models.member import Member
from pipeline.models.registry import build_model
from pipeline.pixels import to_unit

from ..conftest import tiny_params

INT8 = QuantSpec(method="int8_static", calibration_size=64)
FP16 = QuantSpec(method="fp16")
CONFIGS = {
    "dense": CompressionConfig(),
    "magnitude_50": CompressionConfig(prune=PruneSpec(sparsity=0.5)),
    "int8_static": CompressionConfig(quantize=INT8),
    "fp16": CompressionConfig(quantize=FP16),
}


def cell(root: Path, config: str, seed: int) -> Path:
    """The checkpoint of ``config``'s cell of ``seed`` in the study under ``root`` (the compress stage's
    layout, pipeline/io/compress.py)."""
    return CompressFolder(root / "compress").checkpoint(config, seed)


def dense_member(seed: int) -> Member:
    torch.manual_seed(seed)
    return Member(build_model("small_cnn", 1, 4, 16), torch.tensor([0.5]), torch.tensor([0.25])).eval()


def pruned(model: Member) -> Member:
    """Half of every weight tensor zeroed, smallest magnitudes first (a stand-in for the pruner)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight") and p.dim() > 1:
                p[p.abs() <= p.abs().median()] = 0.0
    return model


def meta_of(seed: int, data: Prepared, config: str) -> CheckpointMeta:
    """The checkpoint metadata of the member of ``seed`` or of its cell of ``config`` (its compression
    report a stand-in: size ratio 1, nothing pruned)."""
    member = CheckpointMeta.member(tiny_params(), seed, data, final_val_acc=0.5)
    if config == "dense":
        return member
    return member.to_cell(config, CONFIGS[config], CompressionReport(None, None, 1, 1))


def write_study(root: Path, data: Prepared, seeds: Sequence[int], configs: Mapping[str, Any]) -> None:
    """``root/prepare`` and every seed's member of each of ``configs`` (names of CONFIGS) under
    ``root/compress``, as the prepare and compress stages lay them out."""
    save_prepared(root / "prepare", data)
    calibration = to_unit(torch.from_numpy(data.train.images[:64]))
    build = {
        "dense": dense_member,
        "magnitude_50": lambda seed: pruned(dense_member(seed)),
        "int8_static": lambda seed: quantize(dense_member(seed), calibration, INT8),
        "fp16": lambda seed: quantize(dense_member(seed), None, FP16),
    }
    for seed in seeds:
        for config in configs:
            save_checkpoint(
                cell(root, config, seed), build[config](seed).state_dict(), meta_of(seed, data, config)
            )


def write_params(path: Path, configs: Mapping[str, Any], seeds: tuple[int, ...], **sections: Any) -> Path:
    """A params file: the tiny study's, with these configs and seeds and the given sections replaced."""
    params = dataclasses.replace(
        tiny_params(),
        population=PopulationParams(seeds=seeds),
        compress=CompressParams(configs=dict(configs)),
    )
    path.write_text(yaml.safe_dump(to_dict(dataclasses.replace(params, **sections)), sort_keys=False))
    return path


def run_reference(stage: ModuleType, root: Path, out: Path, params: Path | None = None) -> Path:
    """Run a reference stage's ``main`` (saliency_reference, representations_reference) through its
    command line on the dense members of ``root``; its output folder."""
    argv = ["--params", str(params or root / "params.yaml"), "--prepare", str(root / "prepare")]
    stage.main(
        stage.build_parser().parse_args([*argv, "--compress", str(root / "compress"), "--out", str(out)])
    )
    return out


def run_stage(
    stage: ModuleType, root: Path, config: str, out: Path, reference: Path, params: Path | None = None
) -> Path:
    """Run a per-config stage's ``main`` (saliency, representations) through its command line for
    ``config`` against ``reference``, writing under the stage folder ``out``; the config's folder."""
    argv = ["--params", str(params or root / "params.yaml"), "--config", config]
    argv += ["--prepare", str(root / "prepare"), "--compress", str(root / "compress")]
    stage.main(stage.build_parser().parse_args([*argv, "--reference", str(reference), "--out", str(out)]))
    owner = SaliencyFolder if stage.__name__.endswith(".saliency") else RepresentationsFolder
    return owner(out).config(config)
