from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import yaml

from pipeline.data.base import DatasetCorrupt, DatasetUnavailable
from pipeline.data.prepare import Prepared
from pipeline.io.compress import CompressFolder
from pipeline.io.files import file_sha256
from pipeline.io.folders import replaced_folder
from pipeline.io.prepared import META, array_file, load_test_split, save_prepared
from pipeline.io.tables import write_table
from pipeline.io.train import TrainFolder

from ..conftest import REPO


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
    labels = array_file("test", "labels")
    np.save(tmp_path / labels, tiny_data.test.labels[:-1])
    meta = json.loads((tmp_path / META).read_text())  # recorded as if written so: digests pass
    meta["files"][labels] = file_sha256(tmp_path / labels)
    (tmp_path / META).write_text(json.dumps(meta))
    with pytest.raises(DatasetCorrupt, match=r"do not line up; rerun prepare"):
        load_test_split(tmp_path)


# ------------------------------------------------------------------------- dvc.yaml agrees with the owners


def stage_args(dvc_file: str, stage: str, module: ModuleType) -> tuple[dict[str, Any], argparse.Namespace]:
    """A stage's body in ``dvc_file`` and its command line parsed by the stage's own parser."""
    body = yaml.safe_load((REPO / dvc_file).read_text())["stages"][stage]
    argv = shlex.split(body["cmd"])
    assert argv[:3] == ["python", "-m", module.__name__]
    return body, module.build_parser().parse_args(argv[3:])


def render(path: str, config: str, seed: int) -> Path:
    return Path(path.replace("${item.config}", config).replace("${item.seed}", str(seed)))


def test_train_outs_are_the_paths_of_its_folders_owner() -> None:
    from pipeline.stages import train

    body, args = stage_args("dvc.yaml", "train", train)
    folder = TrainFolder(Path(args.out), Path(args.history))
    assert [render(out, "", 7) for out in body["outs"]] == list(folder.outputs(7))
    assert args.prepare in body["deps"]


def test_compress_reads_the_train_owners_checkpoint_and_writes_its_own_owners() -> None:
    from pipeline.stages import compress

    body, args = stage_args("families/compress/dvc.yaml", "compress", compress)
    assert [render(out, "int8_static", 3) for out in body["outs"]] == [
        CompressFolder(Path(args.out)).checkpoint("int8_static", 3)
    ]
    deps = [render(dep, "int8_static", 3) for dep in body["deps"]]
    assert TrainFolder(Path(args.train)).checkpoint(3) in deps and Path(args.prepare) in deps


def test_prepare_and_corrupt_write_the_folders_their_readers_are_given() -> None:
    from pipeline.stages import corrupt, prepare

    prepare_body, prepare_args = stage_args("dvc.yaml", "prepare", prepare)
    corrupt_body, corrupt_args = stage_args("dvc.yaml", "corrupt", corrupt)
    assert prepare_body["outs"] == [prepare_args.out] and corrupt_body["outs"] == [corrupt_args.out]
    assert corrupt_args.prepare == prepare_args.out and corrupt_args.prepare in corrupt_body["deps"]
