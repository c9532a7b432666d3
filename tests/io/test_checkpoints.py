"""Checkpoints: safetensors with typed, versioned metadata (pipeline/io/checkpoints.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from pipeline.compression.report import CompressionReport, LayerBits, SparsityReport, TensorSparsity
from pipeline.config import CompressionConfig, PruneSpec, QuantSpec
from pipeline.data.prepare import Prepared
from pipeline.errors import InputCorrupt
from pipeline.io.checkpoints import (
    DIGEST_KEY,
    FORMAT,
    METADATA_KEY,
    CheckpointMeta,
    load_checkpoint,
    save_checkpoint,
    tensors_sha256,
)

from ..conftest import tiny_params

STATE = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.zeros(2)}


def member_meta(data: Prepared, seed: int = 3) -> CheckpointMeta:
    return CheckpointMeta.member(tiny_params(), seed, data, final_val_acc=0.75)


def cell_meta(data: Prepared) -> CheckpointMeta:
    cfg = CompressionConfig(PruneSpec(sparsity=0.5), QuantSpec(method="int4_weight"))
    sparsity = SparsityReport({"net.w": TensorSparsity.of(8, 4)}, TensorSparsity.of(8, 4))
    report = CompressionReport(sparsity, {"net.w": LayerBits(4, 8)}, size_bytes=25, dense_size_bytes=100)
    return member_meta(data).to_cell("magnitude_50+int4", cfg, report)


def raw_metadata(path: Path) -> dict[str, object]:
    with safe_open(str(path), framework="pt") as handle:
        out: dict[str, object] = json.loads(handle.metadata()[METADATA_KEY])
    return out


def rewrite_metadata(path: Path, change: dict[str, object]) -> None:
    """The checkpoint's tensors saved again with its metadata JSON changed (the digest kept)."""
    state, _ = _tensors(path)
    save_file(state, str(path), metadata={METADATA_KEY: json.dumps(raw_metadata(path) | change)})


def _tensors(path: Path) -> tuple[dict[str, torch.Tensor], None]:
    with safe_open(str(path), framework="pt") as handle:
        return {k: handle.get_tensor(k) for k in handle.keys()}, None  # noqa: SIM118


@pytest.mark.parametrize("kind", ["member", "cell"])
def test_metadata_round_trips_typed_and_is_not_a_pickle(
    tmp_path: Path, tiny_data: Prepared, kind: str
) -> None:
    meta = member_meta(tiny_data) if kind == "member" else cell_meta(tiny_data)
    save_checkpoint(tmp_path / "m.safetensors", STATE, meta)
    loaded, back = load_checkpoint(tmp_path / "m.safetensors")
    assert back == meta and back.kind == kind and back.format == FORMAT
    torch.testing.assert_close(loaded["w"], STATE["w"])
    assert not (tmp_path / "m.safetensors").read_bytes().startswith(b"\x80")  # no pickle protocol header
    assert raw_metadata(tmp_path / "m.safetensors")["format"] == FORMAT


def test_typed_accessors_of_a_member_and_a_cell(tiny_data: Prepared) -> None:
    member, cell = member_meta(tiny_data), cell_meta(tiny_data)
    assert (member.size_ratio, member.overall_sparsity, member.quant_spec) == (1.0, 0.0, None)
    assert member.final_val_acc == 0.75 and member.params.train == tiny_params().train
    assert (cell.size_ratio, cell.overall_sparsity) == (0.25, 0.5)
    assert cell.quant_spec == QuantSpec(method="int4_weight") and cell.final_val_acc is None
    assert cell.cell is not None and cell.cell.config == "magnitude_50+int4"
    assert (cell.seed, cell.params, cell.dataset_sha256) == (
        member.seed,
        member.params,
        member.dataset_sha256,
    )


def test_the_digest_is_of_the_tensors_alone(tmp_path: Path, tiny_data: Prepared) -> None:
    """The same tensors give the same recorded digest whatever the metadata (so a member's digest is
    the one its tensors had before the metadata was typed)."""
    save_checkpoint(tmp_path / "a.safetensors", STATE, member_meta(tiny_data))
    save_checkpoint(tmp_path / "b.safetensors", STATE, cell_meta(tiny_data))
    digests = {raw_metadata(tmp_path / f"{n}.safetensors")[DIGEST_KEY] for n in "ab"}
    assert digests == {tensors_sha256(STATE)}


def test_checkpoint_bytes_are_deterministic(tmp_path: Path, tiny_data: Prepared) -> None:
    save_checkpoint(tmp_path / "1.safetensors", STATE, cell_meta(tiny_data))
    save_checkpoint(tmp_path / "2.safetensors", dict(reversed(STATE.items())), cell_meta(tiny_data))
    assert (tmp_path / "1.safetensors").read_bytes() == (tmp_path / "2.safetensors").read_bytes()


@pytest.mark.parametrize("found", [1, 3, None])
def test_another_format_is_one_line_saying_what_to_rerun(
    tmp_path: Path, tiny_data: Prepared, found: object
) -> None:
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, STATE, member_meta(tiny_data))
    rewrite_metadata(path, {"format": found})
    with pytest.raises(
        InputCorrupt,
        match=rf"^{path}: checkpoint format {found}, this version reads format 2; rerun `dvc repro`",
    ):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "cell"}, r"metadata\.kind: 'cell' does not match its cell section"),
        ({"seed": "three"}, r"metadata\.seed: must be an integer"),
        ({"image_shape": [1, 16]}, r"metadata\.image_shape: not \(C, H, W\)"),
        ({"params": {"prepare": {}, "model": {}, "train": {"epochs": 0}, "runtime": {}}}, r"train\.epochs"),
    ],
)
def test_metadata_that_is_not_a_checkpoint_meta_is_refused(
    tmp_path: Path, tiny_data: Prepared, change: dict[str, object], message: str
) -> None:
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, STATE, member_meta(tiny_data))
    rewrite_metadata(path, change)
    with pytest.raises(
        InputCorrupt, match=rf"^{path}: its metadata does not describe a member or cell \[.*{message}"
    ):
        load_checkpoint(path)


def test_a_missing_field_is_named(tmp_path: Path, tiny_data: Prepared) -> None:
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, STATE, member_meta(tiny_data))
    meta = raw_metadata(path)
    del meta["dataset_sha256"]
    save_file(_tensors(path)[0], str(path), metadata={METADATA_KEY: json.dumps(meta)})
    with pytest.raises(InputCorrupt, match=r"metadata: lacks dataset_sha256"):
        load_checkpoint(path)


def test_a_foreign_safetensors_file_is_refused(tmp_path: Path) -> None:
    save_file({"w": torch.zeros(1)}, str(tmp_path / "x.safetensors"), metadata={"format": "pt"})
    with pytest.raises(InputCorrupt, match=r"x\.safetensors: not a checkpoint of this project"):
        load_checkpoint(tmp_path / "x.safetensors")


def test_a_cell_keeps_its_members_fields(tiny_data: Prepared) -> None:
    member, cell = member_meta(tiny_data), cell_meta(tiny_data)
    same = (
        "arch",
        "seed",
        "num_classes",
        "image_shape",
        "class_names",
        "dataset",
        "dataset_sha256",
        "params",
    )
    assert all(getattr(member, f) == getattr(cell, f) for f in same)
    assert dataclasses.replace(cell, kind="member", cell=None, final_val_acc=0.75) == member
