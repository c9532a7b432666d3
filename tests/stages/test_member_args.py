"""Which config and seed a stage makes: from --config/--seed, or else from its DVC stage name, so that no
params value is ever written into a shell command (pipeline/stages/_cli.py)."""

from __future__ import annotations

import argparse

import pytest

from pipeline.errors import ConfigError
from pipeline.stages._cli import add_member_args, member_path, resolve_member


def args_of(argv: list[str], *, config: bool, seed: bool) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_member_args(p, config=config, seed=seed)
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
    args = args_of(["--out", "x/{config}.d/seed_{seed}"], config=config, seed=seed)
    resolve_member(args, ("out",))
    assert (getattr(args, "config", None), getattr(args, "seed", None)) == expected
    name, number = expected
    assert args.out == f"x/{name if config else '{config}'}.d/seed_{number if seed else '{seed}'}"


def test_arguments_win_over_the_stage_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_STAGE", "families/compress/dvc.yaml:compress@dense-0")
    args = args_of(["--config", "fp16", "--seed", "4", "--out", "{config}/{seed}"], config=True, seed=True)
    resolve_member(args, ("out",))
    assert (args.config, args.seed, args.out) == ("fp16", 4, "fp16/4")


def test_outside_dvc_the_arguments_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DVC_STAGE", raising=False)
    with pytest.raises(ConfigError, match="--config/--seed"):
        resolve_member(args_of(["--out", "o"], config=True, seed=False), ("out",))


def test_a_seed_that_is_not_an_integer_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_STAGE", "train@one")
    with pytest.raises(ConfigError, match=r"population\.seeds"):
        resolve_member(args_of(["--out", "o"], config=False, seed=True), ("out",))


def test_member_path_leaves_other_fields() -> None:
    assert member_path("data/{config}.d/{view}/seed_{seed}", "dense") == "data/dense.d/{view}/seed_{seed}"
