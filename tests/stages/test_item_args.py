"""Which config and seed a stage makes: from --config/--seed, or else from its DVC stage name, so that no
params value is ever written into a shell command (pipeline/stages/_cli.py)."""

from __future__ import annotations

import argparse

import pytest

from pipeline.errors import ConfigError
from pipeline.stages._cli import add_item_args, resolve_item


def args_of(argv: list[str], *, config: bool, seed: bool) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_item_args(p, config=config, seed=seed)
    p.add_argument("--out")
    return p.parse_args(argv)


@pytest.mark.parametrize(
    ("stage", "config", "seed", "expected"),
    [
        ("train@3", False, True, (None, 3)),
        (
            "families/compress/dvc.yaml:compress@magnitude_70+int8_static-12",
            True,
            True,
            ("magnitude_70+int8_static", 12),
        ),
        ("families/predict/dvc.yaml:predict@dense", True, False, ("dense", None)),
        ("families/saliency/dvc.yaml:saliency@a_b", True, False, ("a_b", None)),
    ],
)
def test_the_member_comes_from_the_dvc_stage_name(
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
    config: bool,
    seed: bool,
    expected: tuple[str | None, int | None],
) -> None:
    monkeypatch.setenv("DVC_STAGE", stage)
    args = args_of(["--out", "data/x"], config=config, seed=seed)
    resolve_item(args)
    assert (getattr(args, "config", None), getattr(args, "seed", None)) == expected
    assert args.out == "data/x"  # folders pass through: their owners name the config's files


def test_arguments_win_over_the_stage_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_STAGE", "families/compress/dvc.yaml:compress@dense-0")
    args = args_of(["--config", "fp16", "--seed", "4", "--out", "data/x"], config=True, seed=True)
    resolve_item(args)
    assert (args.config, args.seed) == ("fp16", 4)


def test_outside_dvc_the_arguments_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DVC_STAGE", raising=False)
    with pytest.raises(ConfigError, match="--config/--seed"):
        resolve_item(args_of(["--out", "o"], config=True, seed=False))


def test_a_seed_that_is_not_an_integer_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_STAGE", "train@one")
    with pytest.raises(ConfigError, match=r"population\.seeds"):
        resolve_item(args_of(["--out", "o"], config=False, seed=True))
