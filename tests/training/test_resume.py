"""A training run resumed from an epoch's saved state ends bit for bit like an uninterrupted run."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import torch

from pipeline.config import TrainParams
from pipeline.data.prepare import Prepared
from pipeline.io.resume import ResumeFile
from pipeline.models.member import new_member
from pipeline.training.loop import EpochRecord, TrainData, train_member
from pipeline.training.resume import EpochState, Resume, resume_with

KEY = hashlib.sha256(b"test").hexdigest()


def member(data: Prepared) -> torch.nn.Module:
    torch.manual_seed(1)
    return new_member(
        "small_cnn", data.image_shape, data.num_classes, TrainData.from_prepared(data).train_images
    )


def rows(history: list[EpochRecord]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(r).items() if k != "images_per_second"} for r in history]


def through_a_file(state: EpochState, tmp_path: Path) -> Resume:
    """``state`` saved and loaded back, as a killed stage's next run gets it."""
    store = ResumeFile(tmp_path / "model.safetensors", KEY)
    store.save(state.tensors, state.values)
    return resume_with(store.load(), lambda tensors, values: None)


@pytest.mark.parametrize(("optimizer", "schedule"), [("sgd", "onecycle"), ("adamw", "cosine")])
def test_training_resumed_after_any_epoch_ends_bit_for_bit(
    tiny_data: Prepared, tmp_path: Path, optimizer: str, schedule: str
) -> None:
    cfg = TrainParams(
        epochs=3, batch_size=64, lr=0.05, optimizer=optimizer, schedule=schedule, augment=("hflip", "shift")
    )
    data = TrainData.from_prepared(tiny_data)
    states: list[EpochState] = []
    model = member(tiny_data)
    history = train_member(model, data, cfg, seed=1, resume=Resume(None, states.append))
    global_stream = torch.get_rng_state()
    assert [s.epoch for s in states] == [1, 2, 3]
    for state in states:  # the last one: killed before its outputs were written, nothing left to train
        resumed = member(tiny_data)
        torch.manual_seed(99)  # the global stream is part of the state too
        again = train_member(resumed, data, cfg, seed=1, resume=through_a_file(state, tmp_path))
        assert rows(again) == rows(history)
        expected, got = model.state_dict(), resumed.state_dict()
        assert all(torch.equal(expected[k], got[k]) for k in expected)
        assert torch.equal(torch.get_rng_state(), global_stream)


def test_states_hold_the_optimizer_the_kind_uses(tiny_data: Prepared) -> None:
    data = TrainData.from_prepared(tiny_data)
    for optimizer, names in (("sgd", {"momentum"}), ("adamw", {"exp_avg", "exp_avg_sq", "step"})):
        states: list[EpochState] = []
        cfg = TrainParams(epochs=1, batch_size=64, optimizer=optimizer)
        train_member(member(tiny_data), data, cfg, seed=0, resume=Resume(None, states.append))
        (state,) = states
        kinds = {k.split(".")[1] for k in state.tensors if k.startswith("optimizer.")}
        assert kinds == names and state.values["optimizer_steps"] == 7  # 448 images / 64
        assert {"rng.run", "rng.torch"} <= state.tensors.keys()
        assert all(t.device.type == "cpu" and t.is_contiguous() for t in state.tensors.values())
