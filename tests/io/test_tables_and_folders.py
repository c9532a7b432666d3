from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.data.base import DatasetCorrupt, DatasetUnavailable
from pipeline.data.prepare import Prepared
from pipeline.io.files import file_sha256
from pipeline.io.folders import replaced_folder
from pipeline.io.prepared import save_prepared
from pipeline.io.tables import write_table
from pipeline.io.test_split import load_test_split


def test_table_writes_missing_values_as_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_table(path, [{"a": 1, "b": float("nan")}, {"a": None, "b": 0.5}], ["a", "b"])
    assert path.read_text().splitlines() == ["a,b", "1,", ",0.5"]


def test_empty_table_keeps_its_header(tmp_path: Path) -> None:
    write_table(tmp_path / "t.csv", [], ["a", "b"])
    assert (tmp_path / "t.csv").read_text().splitlines() == ["a,b"]


def test_rows_must_match_the_header(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"differ from the header"):
        write_table(tmp_path / "t.csv", [{"a": 1}], ["a", "b"])
    assert not (tmp_path / "t.csv").exists()


def test_replaced_folder_swaps_in_on_success(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    with replaced_folder(out) as tmp:
        (tmp / "new.txt").write_text("new")
        assert (out / "stale.txt").exists()  # the old folder stays until the new one is complete
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary left behind


def test_replaced_folder_keeps_the_old_outputs_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.txt").write_text("old")
    with pytest.raises(RuntimeError), replaced_folder(out) as tmp:
        (tmp / "half.txt").write_text("x")
        raise RuntimeError("boom")
    assert sorted(p.name for p in out.iterdir()) == ["kept.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_failed_swap_puts_the_previous_outputs_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.txt").write_text("old")
    real_replace = os.replace
    calls = []

    def replace(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 2:  # the new folder onto the target
            raise OSError("disk full")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="disk full"), replaced_folder(out) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["kept.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_test_split_reads_labels_and_maps_images(tmp_path: Path, tiny_data: Prepared) -> None:
    save_prepared(tmp_path, tiny_data)
    split = load_test_split(tmp_path)
    assert split.class_names == tiny_data.class_names
    np.testing.assert_array_equal(split.labels, tiny_data.test.labels)
    assert isinstance(split.images, np.memmap) and split.attributes is None


def test_missing_prepared_data_names_the_folder_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable, match=r"no prepared dataset.*dvc repro prepare"):
        load_test_split(tmp_path / "nowhere")


def test_misaligned_test_split_is_refused(tmp_path: Path, tiny_data: Prepared) -> None:
    save_prepared(tmp_path, tiny_data)
    np.save(tmp_path / "test_labels.npy", tiny_data.test.labels[:-1])
    meta = json.loads((tmp_path / "meta.json").read_text())  # recorded as if written so: digests pass
    meta["files"]["test_labels.npy"] = file_sha256(tmp_path / "test_labels.npy")
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(DatasetCorrupt, match=r"do not line up; rerun prepare"):
        load_test_split(tmp_path)
