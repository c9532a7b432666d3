"""prepare and train refuse params that do not fit the data, before any work and without a silent fix."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from pipeline.config import ConfigError, PrepareParams, TrainParams, to_dict
from pipeline.data.prepare import Prepared
from pipeline.io.prepared import save_prepared
from pipeline.stages import prepare, train

from ..conftest import tiny_params


def write_params(path: Path, **sections: object) -> Path:
    path.write_text(yaml.safe_dump(to_dict(dataclasses.replace(tiny_params(), **sections)), sort_keys=False))
    return path


def test_a_data_root_that_does_not_exist_is_refused_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "datasets"
    params = write_params(
        tmp_path / "params.yaml", prepare=PrepareParams(dataset="fashion_mnist", root=str(missing))
    )
    args = prepare.build_parser().parse_args(
        ["--params", str(params), "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "out")]
    )
    with pytest.raises(ConfigError, match=r"^prepare\.root: no folder '.*datasets'; use null for data/raw"):
        prepare.main(args)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


def test_a_batch_larger_than_the_training_split_is_refused(tmp_path: Path, tiny_data: Prepared) -> None:
    save_prepared(tmp_path / "prepared", tiny_data)
    n = len(tiny_data.train)
    params = write_params(tmp_path / "params.yaml", train=TrainParams(epochs=1, batch_size=n + 1))
    out = tmp_path / "out"
    args = train.build_parser().parse_args(
        [
            *("--params", str(params), "--seed", "0", "--prepare", str(tmp_path / "prepared")),
            *("--out", str(out), "--history", str(tmp_path / "reports")),
        ]
    )
    with pytest.raises(ConfigError, match=rf"^train\.batch_size: {n + 1} is more than the {n} training"):
        train.main(args)
    assert not out.exists() and not (tmp_path / "reports").exists()


def test_a_data_root_is_only_read_never_downloaded_into(tmp_path: Path) -> None:
    """With prepare.root set, the prepare stage turns torchvision's download off: a folder of the user's
    (even `.` or `/`) is never written; a missing dataset there is a one-line error."""
    from pipeline.stages._cli import run

    root = tmp_path / "mine"
    root.mkdir()
    params = dataclasses.replace(
        tiny_params(), prepare=PrepareParams(dataset="cifar10", root=str(root), allow_download=True)
    )
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(to_dict(params), sort_keys=False))
    args = prepare.build_parser().parse_args(
        [
            "--params",
            str(tmp_path / "params.yaml"),
            "--raw",
            str(tmp_path / "raw"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    with pytest.raises(SystemExit) as exit_info:
        run(prepare.main, args)
    assert exit_info.value.code == 2
    assert list(root.iterdir()) == [] and not (tmp_path / "out").exists()
