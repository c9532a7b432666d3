from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pipeline.compression.cell import check_against_data
from pipeline.compression.load import load_model
from pipeline.config import CompressionConfig, ConfigError, Params, QuantSpec, config_of, to_dict
from pipeline.data.prepare import Prepared
from pipeline.errors import InputCorrupt
from pipeline.io.checkpoints import MemberParams
from pipeline.io.compress import CompressFolder
from pipeline.io.prepared import save_prepared
from pipeline.io.train import TrainFolder
from pipeline.stages import compress, train

from ..conftest import tiny_params


def test_calibration_larger_than_the_training_split_is_refused() -> None:
    cfg = CompressionConfig(quantize=QuantSpec(method="int8_static", calibration_size=600))
    with pytest.raises(
        ConfigError, match=r"compress\.configs\.q8\.quantize\.calibration_size: 600 is larger"
    ):
        check_against_data(cfg, "q8", 512)
    check_against_data(cfg, "q8", 600)


def test_unknown_config_name_lists_the_defined_ones() -> None:
    with pytest.raises(ConfigError, match="no config named 'nope'; defined: dense, magnitude_30"):
        config_of(Params(), "nope")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_data: Prepared) -> Path:
    """A tiny project after ``train`` of seed 0, run through the stage's own command line."""
    root = tmp_path_factory.mktemp("study")
    (root / "params.yaml").write_text(yaml.safe_dump(to_dict(tiny_params()), sort_keys=False))
    save_prepared(root / "data/prepare", tiny_data)
    argv = ["--params", str(root / "params.yaml"), "--seed", "0", "--prepare", str(root / "data/prepare")]
    train.main(
        train.build_parser().parse_args(
            [*argv, "--out", str(root / "data/train"), "--history", str(root / "h")]
        )
    )
    return root


def run_compress(root: Path, config: str, seed: int = 0) -> Path:
    argv = [*("--params", str(root / "params.yaml"), "--config", config, "--seed", str(seed))]
    argv += [*("--prepare", str(root / "data/prepare"), "--train", str(root / "data/train"))]
    compress.main(compress.build_parser().parse_args([*argv, "--out", str(root / "data/compress")]))
    return CompressFolder(root / "data/compress").checkpoint(config, seed)


def test_train_writes_a_member_where_its_folders_owner_says(trained: Path) -> None:
    folder = TrainFolder(trained / "data/train", trained / "h")
    assert all(path.is_file() for path in folder.outputs(0))
    _, meta = load_model(folder.checkpoint(0))
    metrics = json.loads(folder.metrics(0).read_text())
    assert meta.kind == "member" and meta.cell is None and meta.seed == 0
    assert meta.final_val_acc == metrics["val_top1"] and list(metrics) == ["seed", "top1", "val_top1"]
    assert meta.params == MemberParams.of(tiny_params())


@pytest.mark.parametrize("config", ["dense", "magnitude_50", "int8_static"])
def test_compress_makes_a_cell_of_the_member(trained: Path, config: str) -> None:
    _, member = load_model(TrainFolder(trained / "data/train").checkpoint(0))
    _, cell = load_model(run_compress(trained, config))
    assert cell.kind == "cell" and cell.cell is not None and cell.cell.config == config
    assert cell.cell.compression == tiny_params().compress.configs[config]
    assert (cell.params, cell.dataset_sha256, cell.seed) == (member.params, member.dataset_sha256, 0)
    assert cell.quant_spec == cell.cell.compression.quantize
    if config == "dense":
        assert (cell.size_ratio, cell.overall_sparsity) == (1.0, 0.0)
    if config == "magnitude_50":
        assert cell.overall_sparsity == pytest.approx(0.5, abs=1e-3) and cell.size_ratio < 1.0


def test_compress_refuses_a_member_of_another_seed(trained: Path, tmp_path: Path) -> None:
    folder = TrainFolder(trained / "data/train")
    other = TrainFolder(tmp_path / "train")
    other.member(1).mkdir(parents=True)
    other.checkpoint(1).write_bytes(folder.checkpoint(0).read_bytes())  # seed 0's member as seed 1's
    argv = [*("--params", str(trained / "params.yaml"), "--config", "dense", "--seed", "1")]
    argv += [*("--prepare", str(trained / "data/prepare"), "--train", str(tmp_path / "train"))]
    with pytest.raises(
        InputCorrupt, match=r"seed_1/model\.safetensors: the member of seed 0, not the member of seed 1"
    ):
        compress.main(compress.build_parser().parse_args([*argv, "--out", str(tmp_path / "out")]))
    assert not (tmp_path / "out").exists()
