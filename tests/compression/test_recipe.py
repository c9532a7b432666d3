"""One config applied to one member, on the tiny synthetic dataset: what the checkpoint metadata reports."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from pipeline.compression.finetune import finetune, finetune_steps
from pipeline.compression.load import load_model
from pipeline.compression.pruning import MaskKeeper, compute_masks, prunable
from pipeline.compression.recipe import calibration_images, compress_member
from pipeline.config import CompressionConfig, PruneSpec, QuantSpec, TrainParams
from pipeline.data.prepare import Prepared
from pipeline.io.checkpoints import CheckpointMeta, save_checkpoint
from pipeline.models.member import new_member
from pipeline.training.loop import TrainData, evaluate

from ..conftest import tiny_params

TRAIN = TrainParams(epochs=1, batch_size=64, eval_batch_size=256)


@pytest.fixture(scope="module")
def trained(tiny_data: Prepared) -> torch.nn.Module:
    from pipeline.training.loop import train_member

    torch.manual_seed(0)
    data = TrainData.from_prepared(tiny_data)
    model = new_member("small_cnn", tiny_data.image_shape, tiny_data.num_classes, data.train_images)
    train_member(model, data, TRAIN, seed=0)
    return model.eval()


def test_finetune_steps_round_fractional_epochs() -> None:
    spec = PruneSpec(finetune_epochs=0.5)
    assert finetune_steps(spec, 1000, 100) == 5
    assert finetune_steps(PruneSpec(finetune_epochs=0.01), 1000, 100) == 1


def test_finetune_keeps_masks_and_is_deterministic(trained: torch.nn.Module, tiny_data: Prepared) -> None:
    data = TrainData.from_prepared(tiny_data)
    spec = PruneSpec(sparsity=0.8, finetune_epochs=1.0)

    def run() -> dict[str, torch.Tensor]:
        model = copy.deepcopy(trained)
        keeper = MaskKeeper(model, compute_masks(model, spec, 0.8, torch.Generator().manual_seed(0)))
        keeper.keep()
        finetune(model, data, TRAIN, spec, seed=3, hook=keeper)
        for name, weight in prunable(model).items():
            assert torch.all(weight[~keeper.masks[name]] == 0)
        return model.state_dict()

    a, b = run(), run()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    "cfg",
    [
        CompressionConfig(),
        CompressionConfig(prune=PruneSpec(sparsity=0.7, finetune_epochs=0.5)),
        CompressionConfig(
            prune=PruneSpec(sparsity=0.6, schedule="gradual", finetune_epochs=1.0, frequency=2)
        ),
        CompressionConfig(quantize=QuantSpec(method="int8_static", calibration_size=64)),
        CompressionConfig(PruneSpec(sparsity=0.7, finetune_epochs=0.5), QuantSpec(method="int4_weight")),
    ],
    ids=["dense", "magnitude_70", "gradual_60", "int8_static", "magnitude_70+int4"],
)
def test_compressed_member_round_trips_through_its_checkpoint(
    cfg: CompressionConfig, trained: torch.nn.Module, tiny_data: Prepared, tmp_path: Path
) -> None:
    data = TrainData.from_prepared(tiny_data)
    model, report = compress_member(copy.deepcopy(trained), cfg, data, TRAIN, seed=0)
    if cfg.prune is not None:
        assert report.overall_sparsity == pytest.approx(cfg.prune.sparsity, abs=2e-3)
    assert (report.sparsity is None) == (cfg.prune is None) and (report.bits is None) == (
        cfg.quantize is None
    )
    if cfg.is_dense:
        assert report.size_ratio == 1.0
    else:
        assert report.size_ratio < 1.0
    meta = CheckpointMeta.member(tiny_params(), 0, tiny_data, final_val_acc=0.5).to_cell("c", cfg, report)
    save_checkpoint(tmp_path / "m.safetensors", model.state_dict(), meta)
    loaded, back = load_model(tmp_path / "m.safetensors")
    assert back.cell is not None and back.cell.report == report and back.quant_spec == cfg.quantize
    x = torch.from_numpy(tiny_data.test.images[:32]).float() / 255
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
    _, acc = evaluate(loaded, data.val_images, data.val_labels, 64)
    assert acc > 0.6  # 4 classes; compression keeps the model useful


def test_calibration_sample_is_seeded_and_sized() -> None:
    images = torch.arange(100, dtype=torch.uint8).reshape(100, 1, 1, 1)
    spec = QuantSpec(method="int8_static", calibration_size=10, calibration_seed=1)
    a, b = calibration_images(images, spec), calibration_images(images, spec)
    assert a.shape == (10, 1, 1, 1) and torch.equal(a, b) and a.max() <= 1.0
    other = calibration_images(
        images, QuantSpec(method="int8_static", calibration_size=10, calibration_seed=2)
    )
    assert not torch.equal(a, other)
