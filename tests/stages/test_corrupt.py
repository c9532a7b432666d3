"""The ``corrupt`` stage: the corrupted test views every predict@config reads (SPEC sections 6 and 10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from pipeline.config import ConfigError, CorruptParams, to_dict
from pipeline.data.prepare import Prepared
from pipeline.io.prepared import save_prepared
from pipeline.io.views import read_views, write_views
from pipeline.robustness.corrupted import corrupted_images
from pipeline.robustness.corruptions import corrupt
from pipeline.stages import corrupt as corrupt_stage

from ..conftest import tiny_params


def images(n: int = 30) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(0).integers(0, 256, (n, 1, 16, 16), dtype=np.uint8))


def test_views_sample_and_corrupt_like_the_suite() -> None:
    cfg = CorruptParams(corruptions=("rotate", "gaussian_noise"), severities=(3, 1), sample_size=8, seed=4)
    x = images()
    index, views = corrupted_images(x, cfg)
    assert list(views) == ["gaussian_noise-1", "gaussian_noise-3", "rotate-1", "rotate-3"]
    assert index.size == 8 and np.all(np.diff(index) > 0)
    noisy = views["gaussian_noise-3"]
    assert noisy.dtype == np.uint8 and noisy.shape == (8, 1, 16, 16)
    expected = corrupt(x[torch.from_numpy(index)].float() / 255, "gaussian_noise", 3, 4)
    assert np.array_equal(noisy, (expected * 255).round().to(torch.uint8).numpy())
    assert not np.array_equal(noisy, x[torch.from_numpy(index)].numpy())


def test_views_are_deterministic_and_sample_zero_means_all() -> None:
    cfg = CorruptParams(corruptions=("shot_noise",), severities=(5,), sample_size=0)
    (index_a, a), (_, b) = corrupted_images(images(), cfg), corrupted_images(images(), cfg)
    assert np.array_equal(index_a, np.arange(30))
    assert np.array_equal(a["shot_noise-5"], b["shot_noise-5"])


def test_a_sample_larger_than_the_test_split_is_refused() -> None:
    cfg = CorruptParams(corruptions=("rotate",), severities=(1,), sample_size=31)
    with pytest.raises(ConfigError, match=r"^corrupt\.sample_size: 31 is more than the 30 test images"):
        corrupted_images(images(), cfg)


def test_views_round_trip_through_the_folder(tmp_path: Path) -> None:
    cfg = CorruptParams(corruptions=("jpeg", "contrast"), severities=(2,), sample_size=5, seed=1)
    index, views = corrupted_images(images(), cfg)
    write_views(tmp_path / "views", index, views, {"seed": 1})
    back_index, back = read_views(tmp_path / "views")
    assert np.array_equal(back_index, index) and back_index.dtype == np.int64
    assert list(back) == list(views) == ["contrast-2", "jpeg-2"]
    assert all(np.array_equal(back[v], views[v]) for v in views)


def test_a_failed_write_keeps_the_previous_views(tmp_path: Path) -> None:
    cfg = CorruptParams(corruptions=("rotate",), severities=(1,), sample_size=0)
    index, views = corrupted_images(images(), cfg)
    write_views(tmp_path / "views", index, views, {})
    before = {p.name: p.read_bytes() for p in (tmp_path / "views").iterdir()}
    with pytest.raises(TypeError):  # fails after the images are written: metadata JSON cannot hold it
        write_views(tmp_path / "views", index, {"rotate-1": views["rotate-1"][:2]}, {"seed": object()})
    assert {p.name: p.read_bytes() for p in (tmp_path / "views").iterdir()} == before


def test_the_stage_writes_every_view_of_the_params(tmp_path: Path, tiny_data: Prepared) -> None:
    params = tiny_params()
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(to_dict(params), sort_keys=False))
    save_prepared(tmp_path / "prepare", tiny_data)
    argv = ["--params", str(tmp_path / "params.yaml"), "--prepare", str(tmp_path / "prepare")]
    corrupt_stage.main(corrupt_stage.build_parser().parse_args([*argv, "--out", str(tmp_path / "corrupt")]))
    index, views = read_views(tmp_path / "corrupt")
    expected_index, expected = corrupted_images(torch.from_numpy(tiny_data.test.images), params.corrupt)
    assert np.array_equal(index, expected_index) and list(views) == list(expected)
    assert all(np.array_equal(views[v], expected[v]) for v in views)
