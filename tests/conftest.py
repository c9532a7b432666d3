"""Shared fixtures: a tiny synthetic params set and its prepared dataset."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from pipeline.config import (
    CompressionConfig,
    CompressParams,
    CorruptParams,
    Params,
    PopulationParams,
    PrepareParams,
    PruneSpec,
    QuantSpec,
    RepresentationsParams,
    RuntimeParams,
    SyntheticParams,
    TrainParams,
    to_dict,
)
from pipeline.data.prepare import Prepared, prepare
from pipeline.data.synthetic import generate

if TYPE_CHECKING:
    from .s3_server import S3

REPO = Path(__file__).resolve().parents[1]


def tiny_params() -> Params:
    """Synthetic data (4 classes, 16x16), 2 seeds, 1 epoch, a 3-config grid, 2 corruptions at 2 severities
    on 64 test images: the smallest study that exercises everything."""
    data = PrepareParams(dataset="synthetic", val_fraction=0.125, synthetic=SyntheticParams())
    train = TrainParams(epochs=1, batch_size=64, eval_batch_size=256)
    configs = {
        "dense": CompressionConfig(),
        "magnitude_50": CompressionConfig(prune=PruneSpec(sparsity=0.5, finetune_epochs=0.5)),
        "int8_static": CompressionConfig(quantize=QuantSpec(method="int8_static", calibration_size=64)),
    }
    return dataclasses.replace(
        Params(),
        prepare=data,
        train=train,
        runtime=RuntimeParams(threads=1),
        population=PopulationParams(seeds=(0, 1)),
        compress=CompressParams(configs=configs),
        corrupt=CorruptParams(corruptions=("gaussian_noise", "rotate"), severities=(1, 5), sample_size=64),
        representations=RepresentationsParams(sample_size=0),  # all 256 (the default 500 is more)
    )


@pytest.fixture
def params() -> Params:
    return tiny_params()


@pytest.fixture
def params_file(tmp_path: Path, params: Params) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(to_dict(params), sort_keys=False))
    return path


@pytest.fixture(scope="session")
def tiny_data() -> Prepared:
    cfg = tiny_params().prepare
    return prepare(generate(cfg.synthetic), cfg.val_fraction, cfg.split_seed)


@pytest.fixture(scope="session")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny study after a full `dvc repro`, shared by the end-to-end tests (tests/e2e_study.py)."""
    from .e2e_study import make_study

    return make_study(tmp_path_factory)


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3]:
    """A real S3-compatible server on 127.0.0.1 (tests/s3_server.py), stopped after the test."""
    from .s3_server import serve_s3

    with serve_s3(tmp_path) as server:
        yield server
