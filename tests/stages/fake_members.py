"""A tiny study of members for the stages that load checkpoints (saliency, representations): untrained
small CNNs on the synthetic dataset (1x16x16, 4 classes), a pruned and quantized variants of each."""

from __future__ import annotations

import argparse
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
from pipeline.io.prepared import save_prepared
from pipeline.models.member import Member
from pipeline.models.registry import build_model

from ..conftest import tiny_params

INT8 = QuantSpec(method="int8_static", calibration_size=64)
FP16 = QuantSpec(method="fp16")
CONFIGS = {
    "dense": CompressionConfig(),
    "magnitude_50": CompressionConfig(prune=PruneSpec(sparsity=0.5)),
    "int8_static": CompressionConfig(quantize=INT8),
    "fp16": CompressionConfig(quantize=FP16),
}
MEMBERS = "compress/{config}/seed_{{seed}}.safetensors"  # under the study's root; {seed} left to fill


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
    """``root/prepared`` and every seed's member of each of ``configs`` (names of CONFIGS)."""
    save_prepared(root / "prepared", data)
    calibration = torch.from_numpy(data.train.images[:64]).float() / 255.0
    build = {
        "dense": dense_member,
        "magnitude_50": lambda seed: pruned(dense_member(seed)),
        "int8_static": lambda seed: quantize(dense_member(seed), calibration, INT8),
        "fp16": lambda seed: quantize(dense_member(seed), None, FP16),
    }
    for seed in seeds:
        for config in configs:
            path = root / MEMBERS.format(config=config).format(seed=seed)
            save_checkpoint(path, build[config](seed).state_dict(), meta_of(seed, data, config))


def write_params(path: Path, configs: Mapping[str, Any], seeds: tuple[int, ...], **sections: Any) -> Path:
    """A params file: the tiny study's, with these configs and seeds and the given sections replaced."""
    params = dataclasses.replace(
        tiny_params(),
        population=PopulationParams(seeds=seeds),
        compress=CompressParams(configs=dict(configs)),
    )
    path.write_text(yaml.safe_dump(to_dict(dataclasses.replace(params, **sections)), sort_keys=False))
    return path


def run_stage(stage: ModuleType, root: Path, config: str, out: Path, params: Path | None = None) -> Path:
    """Run a members stage's ``main`` for ``config`` against the dense members of ``root``."""
    args = argparse.Namespace(
        params=str(params or root / "params.yaml"),
        config=config,
        data=str(root / "prepared"),
        members=str(root / MEMBERS.format(config=config)),
        dense=str(root / MEMBERS.format(config="dense")),
        out=str(out),
    )
    stage.main(args)
    return out
