"""The ``atypicality`` stage on untrained small CNNs: each dense member's penultimate representation of the
whole test split is the input of its classifier, as the representations' own capture sees it, and the
stage stores each example's class-normalized distance in it, the same bytes on every run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.analysis.atypicality import class_normalized_distance
from pipeline.compression.load import load_model
from pipeline.data.prepare import Prepared
from pipeline.errors import InputCorrupt
from pipeline.io.atypicality import read_atypicality
from pipeline.pixels import to_unit
from pipeline.representations.layers import capture
from pipeline.representations.penultimate import classifier_layer, penultimate
from pipeline.stages import atypicality as atypicality_stage

from . import fake_members
from .fake_members import cell, write_study

SEEDS = (0, 1)
DENSE = {"dense": fake_members.CONFIGS["dense"]}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, tiny_data: Prepared) -> Path:
    root = tmp_path_factory.mktemp("atypicality")
    write_study(root, tiny_data, SEEDS, DENSE)
    fake_members.write_params(root / "params.yaml", DENSE, SEEDS)
    return root


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_stage_measures_each_member_in_its_classifier_input(
    study: Path, tiny_data: Prepared, tmp_path: Path
) -> None:
    out = fake_members.run_reference(atypicality_stage, study, tmp_path / "atypicality")
    stored = read_atypicality(out)
    assert (stored.layer, stored.width, stored.seeds) == ("net.classifier", 128, SEEDS)
    labels = tiny_data.test.labels
    assert stored.examples == labels.shape[0]
    images = torch.from_numpy(np.array(tiny_data.test.images))
    for seed in SEEDS:
        model = load_model(cell(study, "dense", seed))[0]
        seen = capture(model, [classifier_layer(model)], to_unit(images))["net.classifier"]
        want = class_normalized_distance(seen, labels)
        np.testing.assert_allclose(stored.array(seed), want, rtol=1e-4)
        assert np.median(stored.array(seed)[labels == 0]) == pytest.approx(1.0, rel=1e-5)
    again = fake_members.run_reference(atypicality_stage, study, tmp_path / "again")
    assert contents(again) == contents(out)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_stage_on_cuda_agrees_with_the_cpu(study: Path, tmp_path: Path) -> None:
    """``runtime.device: cuda`` runs the members on the GPU: the same layer and width, and scores within
    TF32's rounding of the CPU's."""
    import dataclasses

    from ..conftest import tiny_params

    runtime = dataclasses.replace(tiny_params().runtime, device="cuda")
    on_cuda = fake_members.write_params(tmp_path / "cuda.yaml", DENSE, SEEDS, runtime=runtime)
    cpu = read_atypicality(fake_members.run_reference(atypicality_stage, study, tmp_path / "cpu"))
    gpu = read_atypicality(fake_members.run_reference(atypicality_stage, study, tmp_path / "gpu", on_cuda))
    assert (gpu.layer, gpu.width, gpu.seeds) == (cpu.layer, cpu.width, cpu.seeds)
    for seed in SEEDS:
        np.testing.assert_allclose(gpu.array(seed), cpu.array(seed), rtol=1e-2, atol=1e-3)


def test_a_convolutional_classifier_is_averaged_over_its_positions() -> None:
    """A 1x1 conv classifier (SqueezeNet's kind) reads (B, C, H, W): one value per channel, its mean."""
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.Conv2d(3, 2, 1))
    images = torch.randint(0, 256, (5, 1, 4, 4), dtype=torch.uint8)
    got = penultimate(net, images, batch_size=2)
    want = net[0](to_unit(images)).mean(dim=(2, 3)).detach().numpy()
    assert classifier_layer(net) == "1" and got.shape == (5, 3)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_damaged_array_is_refused_by_name(study: Path, tmp_path: Path) -> None:
    out = fake_members.run_reference(atypicality_stage, study, tmp_path / "atypicality")
    array = out / "seed_1.npy"
    array.write_bytes(array.read_bytes()[:-8])
    stored = read_atypicality(out)
    stored.array(0)
    with pytest.raises(InputCorrupt, match=r"seed_1.npy: SHA-256 differs .* run `dvc repro atypicality`"):
        stored.array(1)
    with pytest.raises(
        InputCorrupt, match=r"atypicality.json: holds the dense members of seeds \[0, 1\], not \[7\]"
    ):
        list(stored.arrays((0, 7)))
