"""Integrity on load: a missing, truncated, garbled or altered file is one InputCorrupt line naming it."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from pipeline.compression.load import load_model
from pipeline.data.prepare import Prepared
from pipeline.errors import InputCorrupt
from pipeline.io.checkpoints import DIGEST_KEY, METADATA_KEY, CheckpointMeta, load_checkpoint, save_checkpoint
from pipeline.io.files import read_json, read_npy
from pipeline.io.predictions import logits_path, read_logits, read_predictions, write_predictions
from pipeline.io.prepared import load_prepared, load_test_split, save_prepared
from pipeline.io.views import read_views, write_views
from pipeline.models.member import Member
from pipeline.models.registry import build_model

from ..conftest import tiny_params


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garble(path: Path) -> None:
    """16 bytes in the middle of the file overwritten."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = b"\xa5" * 16
    path.write_bytes(bytes(data))


def flip(path: Path, offset: int = -1) -> None:
    """One bit of one byte flipped (by default the last, inside the data of every format here)."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path], None]] = {"truncated": truncate, "garbled": garble, "altered": flip}


def raises_naming(
    path: Path, message: str = ""
) -> AbstractContextManager[pytest.ExceptionInfo[InputCorrupt]]:
    """InputCorrupt whose one-line message starts with ``path`` (and holds ``message``)."""
    return pytest.raises(InputCorrupt, match=rf"^{re.escape(str(path))}: [^\n]*{message}[^\n]*$")


# ------------------------------------------------------------------------------------------- checkpoints


def member_checkpoint(path: Path, tiny_data: Prepared, classes: int = 4) -> CheckpointMeta:
    torch.manual_seed(0)
    model = Member(build_model("small_cnn", 1, classes, 16), torch.zeros(1), torch.ones(1))
    meta = CheckpointMeta.member(tiny_params(), 0, tiny_data, final_val_acc=0.5)
    save_checkpoint(path, model.state_dict(), meta)
    return meta


def test_an_intact_checkpoint_loads_and_its_digest_stays_in_the_file(
    tmp_path: Path, tiny_data: Prepared
) -> None:
    path = tmp_path / "m.safetensors"
    meta = member_checkpoint(path, tiny_data)
    model, loaded = load_model(path)
    assert loaded == meta  # the digest is checked and taken out
    assert model(torch.zeros(2, 1, 16, 16)).shape == (2, 4)
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        assert len(json.loads(handle.metadata()[METADATA_KEY])[DIGEST_KEY]) == 64


def test_two_saves_of_a_member_are_byte_identical(tmp_path: Path, tiny_data: Prepared) -> None:
    member_checkpoint(tmp_path / "a.safetensors", tiny_data)
    member_checkpoint(tmp_path / "b.safetensors", tiny_data)
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncated", "not a readable safetensors file"),
        ("garbled", "tensor digest mismatch"),  # the middle of the file is tensor data
        ("altered", "tensor digest mismatch"),
    ],
)
def test_a_damaged_checkpoint_is_refused(
    tmp_path: Path, tiny_data: Prepared, damage: str, message: str
) -> None:
    path = tmp_path / "m.safetensors"
    member_checkpoint(path, tiny_data)
    DAMAGE[damage](path)
    with raises_naming(path, message):
        load_model(path)


def test_a_garbled_checkpoint_header_is_refused(tmp_path: Path, tiny_data: Prepared) -> None:
    path = tmp_path / "m.safetensors"
    member_checkpoint(path, tiny_data)
    data = bytearray(path.read_bytes())
    data[20:36] = b"\xff" * 16  # inside the JSON header
    path.write_bytes(bytes(data))
    with raises_naming(path, "not a readable safetensors file"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({METADATA_KEY: json.dumps({"format": 2, "arch": "small_cnn"})}, "no tensor digest"),
        ({METADATA_KEY: json.dumps({"arch": "small_cnn"})}, "checkpoint format None"),
        ({METADATA_KEY: '{"arch": "small_'}, "metadata is not valid JSON"),
        ({METADATA_KEY: "[1, 2]"}, "metadata is not a JSON object"),
        ({"format": "pt"}, "not a checkpoint of this project"),
    ],
)
def test_checkpoint_metadata_is_checked(tmp_path: Path, metadata: dict[str, str], message: str) -> None:
    path = tmp_path / "m.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata=metadata)
    with raises_naming(path, message):
        load_checkpoint(path)


def test_a_missing_checkpoint_is_one_line(tmp_path: Path) -> None:
    with raises_naming(tmp_path / "none.safetensors", "missing"):
        load_checkpoint(tmp_path / "none.safetensors")


def test_tensors_that_do_not_fit_the_recorded_architecture_are_refused(
    tmp_path: Path, tiny_data: Prepared
) -> None:
    path = tmp_path / "m.safetensors"
    meta = member_checkpoint(path, tiny_data, classes=5)  # 5 classes of weights, 4 recorded
    with raises_naming(path, "its tensors do not fit the architecture it records"):
        load_model(path)
    state, _ = load_checkpoint(path)
    save_checkpoint(path, state, dataclasses.replace(meta, arch="no_such_arch"))
    with raises_naming(path, "does not describe a model this version builds"):
        load_model(path)


# -------------------------------------------------------------------------------------- prepared dataset


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("file", ["train_images.npy", "val_labels.npy", "test_images.npy"])
def test_a_damaged_prepared_file_is_refused(
    tmp_path: Path, tiny_data: Prepared, damage: str, file: str
) -> None:
    save_prepared(tmp_path, tiny_data)
    DAMAGE[damage](tmp_path / file)
    with raises_naming(tmp_path / file, r"SHA-256 differs .*; run `dvc repro prepare`"):
        load_prepared(tmp_path)


def test_one_pixel_changed_in_the_training_images_is_refused(tmp_path: Path, tiny_data: Prepared) -> None:
    save_prepared(tmp_path, tiny_data)
    images = np.load(tmp_path / "train_images.npy")
    images[3, 0, 5, 5] ^= 1
    np.save(tmp_path / "train_images.npy", images)  # a well-formed .npy, one value different
    with raises_naming(tmp_path / "train_images.npy", "SHA-256 differs"):
        load_prepared(tmp_path)


@pytest.mark.parametrize("file", ["test_images.npy", "test_labels.npy"])
def test_the_test_split_checks_the_files_it_reads(tmp_path: Path, tiny_data: Prepared, file: str) -> None:
    save_prepared(tmp_path, tiny_data)
    garble(tmp_path / "train_images.npy")  # not read by load_test_split
    assert load_test_split(tmp_path).labels.shape == (256,)
    flip(tmp_path / file)  # memory-mapped images included
    with raises_naming(tmp_path / file, "SHA-256 differs"):
        load_test_split(tmp_path)


@pytest.mark.parametrize("loader", [load_prepared, load_test_split])
def test_meta_json_of_the_old_format_asks_for_download(
    tmp_path: Path, tiny_data: Prepared, loader: Callable[[Path], object]
) -> None:
    save_prepared(tmp_path, tiny_data)
    meta = json.loads((tmp_path / "meta.json").read_text())
    del meta["files"]
    (tmp_path / "meta.json").write_text(json.dumps(meta | {"format": 1}))
    with raises_naming(tmp_path / "meta.json", r"format 1 .*rerun `dvc repro prepare`"):
        loader(tmp_path)
    truncate(tmp_path / "meta.json")
    with raises_naming(tmp_path / "meta.json", "not readable JSON"):
        loader(tmp_path)


def test_a_missing_prepared_file_names_its_stage(tmp_path: Path, tiny_data: Prepared) -> None:
    save_prepared(tmp_path, tiny_data)
    (tmp_path / "val_images.npy").unlink()
    with raises_naming(tmp_path / "val_images.npy", "missing; run `dvc repro prepare`"):
        load_prepared(tmp_path)


# ----------------------------------------------------------------------------------------- corrupted views


def views(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    images = {v: rng.integers(0, 256, (6, 1, 8, 8), dtype=np.uint8) for v in ("rotate-1", "jpeg-2")}
    write_views(tmp_path / "views", np.arange(0, 12, 2), images, {"seed": 0})
    return tmp_path / "views"


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("file", ["index.npy", "jpeg-2.npy"])
def test_a_damaged_view_is_refused(tmp_path: Path, damage: str, file: str) -> None:
    folder = views(tmp_path)
    assert list(read_views(folder)[1]) == ["rotate-1", "jpeg-2"]
    DAMAGE[damage](folder / file)
    with raises_naming(folder / file, r"SHA-256 differs .*; run `dvc repro corrupt`"):
        read_views(folder)


def test_views_json_without_digests_asks_for_corrupt(tmp_path: Path) -> None:
    folder = views(tmp_path)
    meta = json.loads((folder / "views.json").read_text())
    (folder / "views.json").write_text(json.dumps({k: v for k, v in meta.items() if k != "files"}))
    with raises_naming(folder / "views.json", "rerun `dvc repro corrupt`"):
        read_views(folder)
    (folder / "views.json").unlink()
    with raises_naming(folder / "views.json", "missing; run `dvc repro corrupt`"):
        read_views(folder)


# ------------------------------------------------------------------------------------------ predictions


def columns(n: int = 8, k: int = 3) -> dict[str, np.ndarray]:
    pred = np.arange(n) % k
    return {
        "example_id": np.arange(n, dtype=np.int32),
        "label": (np.arange(n) % k).astype(np.int16),
        "pred": pred.astype(np.int16),
        "p_pred": np.full(n, 0.7, np.float32),
        "p_label": np.full(n, 0.5, np.float32),
        "top5": np.stack([(pred + i) % k for i in range(min(5, k))], axis=1).astype(np.int16),
    }


def table(
    tmp_path: Path, cols: dict[str, np.ndarray] | None = None, logits: np.ndarray | None = None
) -> Path:
    path = tmp_path / "clean" / "seed_0.parquet"
    cols = columns() if cols is None else cols
    logits = np.random.default_rng(0).normal(size=(8, 3)) if logits is None else logits
    write_predictions(path, cols, logits)
    return path


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncated", "not a readable Parquet file"),
        ("garbled", "Parquet"),  # a page checksum or the footer, depending on where the middle falls
        ("altered", "not a readable Parquet file"),  # the last byte is the footer's magic
    ],
)
def test_a_damaged_prediction_table_is_refused(tmp_path: Path, damage: str, message: str) -> None:
    path = table(tmp_path)
    DAMAGE[damage](path)
    with raises_naming(path, message):
        read_predictions(path)


def test_one_flipped_bit_in_a_data_page_fails_its_checksum(tmp_path: Path) -> None:
    path = table(tmp_path)
    flip(path, 40)  # inside the first column's data page, after the 4-byte magic and the page header
    with raises_naming(path, "damaged Parquet data"):
        read_predictions(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c | {"label": c["label"].astype(np.int64)}, "label is int64, not int16"),
        (
            lambda c: c | {"top5": c["top5"][:, :2]},
            r"top5 is fixed_size_list<element: int16>\[2\], not .*\[3\]",
        ),
        (lambda c: {k: v for k, v in c.items() if k != "p_label"}, "columns example_id, label, pred"),
        (lambda c: c | {"pred": np.full(8, 3, np.int16)}, r"pred outside \[0, 3\)"),
        (lambda c: c | {"p_pred": np.full(8, np.nan, np.float32)}, r"p_pred outside \[0, 1\]"),
    ],
)
def test_a_prediction_table_of_the_wrong_shape_is_refused(
    tmp_path: Path, change: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]], message: str
) -> None:
    path = table(tmp_path, change(columns()))
    with raises_naming(path, f"not a prediction table of this project .*{message}"):
        read_predictions(path)


def test_a_table_and_logits_of_different_lengths_are_refused(tmp_path: Path) -> None:
    path = table(tmp_path, logits=np.zeros((7, 3)))
    with raises_naming(path, "8 rows, its logits 7"):
        read_predictions(path)


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_logits_are_refused(tmp_path: Path, damage: str) -> None:
    path = table(tmp_path)
    np.testing.assert_array_equal(read_logits(path).shape, (8, 3))
    DAMAGE[damage](logits_path(path))
    with raises_naming(logits_path(path), r"SHA-256 differs .*; run `dvc repro predict`"):
        read_logits(path)


def test_truncated_or_missing_logits_stop_the_table_too(tmp_path: Path) -> None:
    path = table(tmp_path)
    truncate(logits_path(path))
    with raises_naming(logits_path(path), "not a readable .npy array"):
        read_predictions(path)
    logits_path(path).unlink()
    with raises_naming(logits_path(path), "missing; run `dvc repro predict`"):
        read_predictions(path)


# -------------------------------------------------------------------------------------- JSON and .npy


def test_damaged_json_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"configs": {"dense": {"top1": 0.9}}}, indent=2))
    assert read_json(path)["configs"]["dense"]["top1"] == 0.9
    truncate(path)
    with raises_naming(path, "not readable JSON"):
        read_json(path)
    path.write_bytes(b'{"top1": \xff\xfe}')
    with raises_naming(path, "not readable JSON"):
        read_json(path)
    with raises_naming(tmp_path / "none.json", "missing; run `dvc repro stats`"):
        read_json(tmp_path / "none.json", "stats")


@pytest.mark.parametrize("mmap", [False, True])
def test_damaged_npy_is_one_line(tmp_path: Path, mmap: bool) -> None:
    path = tmp_path / "a.npy"
    np.save(path, np.arange(100, dtype=np.float32).reshape(10, 10))
    truncate(path)
    with raises_naming(path, "not a readable .npy array"):
        read_npy(path, mmap=mmap)
    path.write_bytes(b"\x93NUMPY garbage")
    with raises_naming(path, "not a readable .npy array"):
        read_npy(path, mmap=mmap)


def test_the_stage_entry_prints_one_line_and_exits_2(
    tmp_path: Path, tiny_data: Prepared, capsys: pytest.CaptureFixture[str]
) -> None:
    from argparse import Namespace

    from pipeline.stages._cli import run

    path = tmp_path / "m.safetensors"
    member_checkpoint(path, tiny_data)
    garble(path)
    with pytest.raises(SystemExit) as stop:
        run(lambda _: load_model(path) and None, Namespace())
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err == f"error: {path}: tensor digest mismatch (the file was altered or damaged); " + (
        "rerun the stage that wrote it or pull it again\n"
    )
