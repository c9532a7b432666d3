from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from pipeline.errors import InputCorrupt
from pipeline.io.checkpoints import load_checkpoint, save_checkpoint


def test_checkpoint_round_trip_keeps_metadata_and_is_not_a_pickle(tmp_path: Path) -> None:
    state = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.zeros(2)}
    save_checkpoint(tmp_path / "m.safetensors", state, {"seed": 3, "config": {"lr": 0.1}})
    loaded, meta = load_checkpoint(tmp_path / "m.safetensors")
    assert meta == {"seed": 3, "config": {"lr": 0.1}}
    torch.testing.assert_close(loaded["w"], state["w"])
    assert not (tmp_path / "m.safetensors").read_bytes().startswith(b"\x80")  # no pickle protocol header


def test_checkpoint_bytes_are_deterministic(tmp_path: Path) -> None:
    state = {"a": torch.ones(3), "b": torch.zeros(2)}
    save_checkpoint(tmp_path / "1.safetensors", state, {"x": 1, "y": [1, 2]})
    save_checkpoint(tmp_path / "2.safetensors", dict(reversed(state.items())), {"y": [1, 2], "x": 1})
    assert (tmp_path / "1.safetensors").read_bytes() == (tmp_path / "2.safetensors").read_bytes()


def test_a_foreign_safetensors_file_is_refused(tmp_path: Path) -> None:
    save_file({"w": torch.zeros(1)}, str(tmp_path / "x.safetensors"), metadata={"format": "pt"})
    with pytest.raises(InputCorrupt, match=r"x\.safetensors: not a checkpoint of this project"):
        load_checkpoint(tmp_path / "x.safetensors")
