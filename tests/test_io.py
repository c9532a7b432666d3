from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline import io
from pipeline.data.prepare import Prepared


def test_prepared_round_trip(tmp_path: Path, tiny_data: Prepared) -> None:
    io.save_prepared(tmp_path / "prepared", tiny_data)
    back = io.load_prepared(tmp_path / "prepared")
    assert back.sha256 == tiny_data.sha256
    assert back.class_names == tiny_data.class_names
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(back.split(name).images, tiny_data.split(name).images)
        np.testing.assert_array_equal(back.split(name).labels, tiny_data.split(name).labels)
    meta = json.loads((tmp_path / "prepared" / "meta.json").read_text())
    assert meta["sizes"] == {"train": 448, "val": 64, "test": 256}
    assert oct(os.stat(tmp_path / "prepared" / "meta.json").st_mode & 0o777) != oct(0o600)


def test_checkpoint_round_trip_keeps_metadata_and_is_not_a_pickle(tmp_path: Path) -> None:
    state = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.zeros(2)}
    io.save_checkpoint(tmp_path / "m.safetensors", state, {"seed": 3, "config": {"lr": 0.1}})
    loaded, meta = io.load_checkpoint(tmp_path / "m.safetensors")
    assert meta == {"seed": 3, "config": {"lr": 0.1}}
    torch.testing.assert_close(loaded["w"], state["w"])
    assert not (tmp_path / "m.safetensors").read_bytes().startswith(b"\x80")  # no pickle protocol header


def test_checkpoint_bytes_are_deterministic(tmp_path: Path) -> None:
    state = {"a": torch.ones(3), "b": torch.zeros(2)}
    io.save_checkpoint(tmp_path / "1.safetensors", state, {"x": 1, "y": [1, 2]})
    io.save_checkpoint(tmp_path / "2.safetensors", dict(reversed(state.items())), {"y": [1, 2], "x": 1})
    assert (tmp_path / "1.safetensors").read_bytes() == (tmp_path / "2.safetensors").read_bytes()


def test_failed_write_leaves_previous_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    io.write_json(target, {"ok": 1})
    with pytest.raises(RuntimeError), io.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_csv_has_header_and_rows(tmp_path: Path) -> None:
    io.write_csv(tmp_path / "h.csv", [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.25}])
    assert (tmp_path / "h.csv").read_text().splitlines() == ["epoch,loss", "1,0.5", "2,0.25"]
