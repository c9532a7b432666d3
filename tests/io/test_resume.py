"""Resume state files: where they live, what they hold, which key they answer to."""

from __future__ import annotations

import hashlib
import logging
import sys
import types
from pathlib import Path

import pytest
import torch

from pipeline.io import resume
from pipeline.io.resume import ResumeFile, inputs_key

KEY = hashlib.sha256(b"inputs").hexdigest()
OTHER = hashlib.sha256(b"other inputs").hexdigest()


def project(tmp_path: Path) -> Path:
    (tmp_path / ".dvc").mkdir()
    return tmp_path


def tensors() -> dict[str, torch.Tensor]:
    return {
        "model.w": torch.randn(3, 4, generator=torch.Generator().manual_seed(0)),
        "masks.w": torch.tensor([[True, False], [False, True]]),
        "rng.run": torch.Generator().manual_seed(1).get_state(),
    }


def test_state_round_trips_exactly_in_the_project_scratch_area(tmp_path: Path) -> None:
    root = project(tmp_path)
    out = root / "data" / "train" / "seed_0" / "model.safetensors"
    state = ResumeFile(out, KEY)
    assert state.path.parent == root / ".scratch" / "resume"
    assert state.path.name == f"data_train_seed_0_model.safetensors.{KEY}.safetensors"
    assert state.load() is None
    values = {"epoch": 2, "history": [{"epoch": 1, "train_loss": 0.1 + 0.2}], "optimizer_steps": 14}
    state.save(tensors(), values)
    back, back_values = state.load()  # type: ignore[misc]
    assert back_values == values  # floats survive JSON to the last bit
    assert back.keys() == tensors().keys() and all(torch.equal(back[k], tensors()[k]) for k in back)
    assert back["masks.w"].dtype == torch.bool
    assert not (root / "data" / "train" / "seed_0").exists()  # nothing beside the output
    state.remove()
    assert sorted(p.name for p in root.iterdir()) == [".dvc"]  # the area goes with its last file


def test_a_save_replaces_the_previous_state_whole(tmp_path: Path) -> None:
    state = ResumeFile(project(tmp_path) / "out.safetensors", KEY)
    state.save(tensors(), {"epoch": 1})
    state.save({"model.w": torch.zeros(2)}, {"epoch": 2})
    back, values = state.load()  # type: ignore[misc]
    assert values == {"epoch": 2} and list(back) == ["model.w"]
    assert [p.name for p in state.path.parent.iterdir()] == [state.path.name]


def test_loading_removes_other_keys_of_the_same_output_only(tmp_path: Path) -> None:
    root = project(tmp_path)
    old = ResumeFile(root / "data" / "a.safetensors", OTHER)
    neighbour = ResumeFile(root / "data" / "b.safetensors", OTHER)
    old.save(tensors(), {"epoch": 1})
    neighbour.save(tensors(), {"epoch": 1})
    assert ResumeFile(root / "data" / "a.safetensors", KEY).load() is None  # other inputs: never resumed
    assert not old.path.exists() and neighbour.path.exists()


def test_an_unreadable_state_is_dropped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = ResumeFile(project(tmp_path) / "out.safetensors", KEY)
    state.save(tensors(), {"epoch": 1})
    state.path.write_bytes(state.path.read_bytes()[:40])  # a damaged file (a disk that lied, say)
    with caplog.at_level(logging.WARNING):
        assert state.load() is None
    assert "ignoring the unreadable resume state" in caplog.text and not state.path.exists()


def test_an_altered_state_is_dropped_not_resumed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state = ResumeFile(project(tmp_path) / "out.safetensors", KEY)
    state.save(tensors(), {"epoch": 1})
    data = bytearray(state.path.read_bytes())
    data[-3] ^= 0x01  # one bit of the last tensor's bytes: still a readable safetensors file
    state.path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        assert state.load() is None
    assert "tensor digest mismatch" in caplog.text and not state.path.exists()


def test_keys_are_sha256_of_inputs() -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        ResumeFile(Path("out.safetensors"), "not-a-key")
    base = {"seed": 0, "params": {"train": {"lr": 0.1}}, "dataset_sha256": "ab"}
    assert inputs_key(base) == inputs_key(dict(base))
    assert inputs_key(base) != inputs_key(base | {"params": {"train": {"lr": 0.2}}})
    assert inputs_key(base) != inputs_key(base | {"dataset_sha256": "ac"})
    assert inputs_key(base) != inputs_key(base | {"seed": 1})


def test_keys_cover_the_source_of_every_loaded_pipeline_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "pipeline/io/resume.py" in resume.pipeline_sources()
    package = tmp_path / "pipeline"
    package.mkdir()
    source = package / "extra.py"
    source.write_text("X = 1\n")
    monkeypatch.setattr(resume, "PACKAGE", package)
    module = types.ModuleType("__main__")  # a stage run with python -m is __main__
    module.__file__ = str(source)
    monkeypatch.setitem(sys.modules, "fake_stage_main", module)
    assert resume.pipeline_sources() == {"pipeline/extra.py": hashlib.sha256(b"X = 1\n").hexdigest()}
    before = inputs_key({"seed": 0})
    source.write_text("X = 2\n")
    assert inputs_key({"seed": 0}) != before
