"""Fine-tuning of more than an epoch resumes, masks and gradual schedule included, bit for bit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from pipeline.compression.recipe import prune_member
from pipeline.config import PruneSpec, TrainParams
from pipeline.data.prepare import Prepared
from pipeline.io.resume import ResumeFile
from pipeline.models.member import new_member
from pipeline.training.loop import TrainData
from pipeline.training.resume import EpochState, Resume, resume_with

TRAIN = TrainParams(epochs=1, batch_size=64, eval_batch_size=256)
KEY = hashlib.sha256(b"test").hexdigest()


def dense(data: Prepared) -> torch.nn.Module:
    torch.manual_seed(0)
    return new_member(
        "small_cnn", data.image_shape, data.num_classes, TrainData.from_prepared(data).train_images
    )


@pytest.mark.parametrize(
    "spec",
    [
        PruneSpec(sparsity=0.6, schedule="finetune", finetune_epochs=2.5),
        PruneSpec(sparsity=0.6, schedule="gradual", method="random", finetune_epochs=2.5, frequency=3),
    ],
    ids=["finetune", "gradual-random"],
)
def test_finetuning_resumed_after_any_epoch_ends_bit_for_bit(
    spec: PruneSpec, tiny_data: Prepared, tmp_path: Path
) -> None:
    data = TrainData.from_prepared(tiny_data)
    states: list[EpochState] = []
    model = dense(tiny_data)
    report = prune_member(model, spec, data, TRAIN, seed=2, resume=Resume(None, states.append))
    assert [s.epoch for s in states] == [1, 2]  # 18 steps of 7 a pass: no state after the last, partial one
    assert len(states[1].values["losses"]) == 14
    store = ResumeFile(tmp_path / "seed_2.safetensors", KEY)
    for state in states:
        store.save(state.tensors, state.values)
        resumed = dense(tiny_data)
        torch.manual_seed(99)
        again = prune_member(resumed, spec, data, TRAIN, seed=2, resume=resume_with(store.load(), store.save))
        assert again == report
        expected, got = model.state_dict(), resumed.state_dict()
        assert all(torch.equal(expected[k], got[k]) for k in expected)


def test_a_fine_tuning_of_an_epoch_or_less_saves_nothing(tiny_data: Prepared) -> None:
    states: list[EpochState] = []
    spec = PruneSpec(sparsity=0.5, finetune_epochs=1.0)
    prune_member(
        dense(tiny_data), spec, TrainData.from_prepared(tiny_data), TRAIN, 0, Resume(None, states.append)
    )
    assert states == []
