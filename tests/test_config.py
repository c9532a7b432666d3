"""params.yaml validation: every kind of bad value gives one line naming the key and what is allowed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import (
    MAX_SEED,
    CompressParams,
    ConfigError,
    Params,
    PruneSpec,
    QuantSpec,
    _default_configs,
    build,
    load_params,
    read_yaml,
    to_dict,
)

from .conftest import REPO


def with_change(section: str, key: str, value: Any) -> dict[str, Any]:
    raw = to_dict(Params())
    raw[section][key] = value
    return raw


def with_config(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    raw = to_dict(Params())
    raw["compress"]["configs"][name] = spec
    return raw


CASES = [
    # (raw params, the key the message must name, a fragment of what is allowed)
    ({**to_dict(Params()), "trian": {}}, "trian", "allowed: prepare, model, train, runtime, population"),
    (with_change("train", "epoch", 3), "train.epoch", "allowed: epochs"),
    (with_change("train", "epochs", "ten"), "train.epochs", "must be an integer"),
    (with_change("train", "epochs", 2.5), "train.epochs", "must be an integer"),
    (with_change("train", "epochs", True), "train.epochs", "must be an integer"),
    (with_change("train", "epochs", 0), "train.epochs", ">= 1"),
    (with_change("train", "lr", -0.1), "train.lr", "> 0.0"),
    (with_change("prepare", "val_fraction", 0.5), "prepare.val_fraction", "< 0.5"),
    (with_change("train", "optimizer", "adam"), "train.optimizer", "allowed: adamw, sgd"),
    (with_change("train", "augment", ["hflip", "rotate"]), "train.augment[1]", "allowed: hflip, shift"),
    (with_change("train", "augment", "hflip"), "train.augment", "must be a list of a string"),
    (
        with_change("prepare", "dataset", "mnist"),
        "prepare.dataset",
        "allowed: celeba, cifar10, fashion_mnist",
    ),
    (with_change("model", "arch", "resnet_does_not_exist"), "model.arch", "small_cnn, lenet5, squeezenet"),
    (with_change("population", "seeds", []), "population.seeds", "must not be empty"),
    (with_change("population", "seeds", [0, 1, 1]), "population.seeds", "duplicates [1]"),
    (with_change("population", "seeds", [0, -1]), "population.seeds[1]", ">= 0"),
    (with_change("population", "seeds", 3), "population.seeds", "must be a list"),
    (with_change("prepare", "synthetic", {"num_classes": 1}), "prepare.synthetic.num_classes", ">= 2"),
    (with_change("prepare", "synthetic", {"colour": 1}), "prepare.synthetic.colour", "allowed: num_classes"),
    ({**to_dict(Params()), "train": [1, 2]}, "train", "must be a mapping"),
    # compression configs: each error names the config and the key
    (
        with_config("m90", {"prune": {"method": "lottery"}}),
        "compress.configs.m90.prune.method",
        "allowed: magnitude",
    ),
    (with_config("m90", {"prune": {"sparsity": 1.0}}), "compress.configs.m90.prune.sparsity", "< 1.0"),
    (with_config("m90", {"prune": {"sparsity": -0.1}}), "compress.configs.m90.prune.sparsity", ">= 0.0"),
    (
        with_config("q", {"quantize": {"method": "int3"}}),
        "compress.configs.q.quantize.method",
        "allowed: bf16",
    ),
    (
        with_config("q", {"quantize": {"method": "int8_static", "weight_bits": 4}}),
        "compress.configs.q.quantize.weight_bits",
        "unsupported bit width 4 for int8_static; allowed: 8",
    ),
    (
        with_config("q", {"quantize": {"method": "int4_weight", "weight_bits": 5}}),
        "compress.configs.q.quantize.weight_bits",
        "allowed: 4, 3, 2",
    ),
    (
        with_config("p", {"prune": {"schedule": "oneshot", "finetune_epochs": 1}}),
        "compress.configs.p.prune.finetune_epochs",
        "must be 0 with schedule oneshot",
    ),
    (
        with_config("p", {"prune": {"method": "structured", "scope": "global"}}),
        "compress.configs.p.prune.scope",
        "use layer",
    ),
    (
        with_config("p", {"prune": {"sparsity": 0.9}, "distill": {}}),
        "compress.configs.p.distill",
        "allowed: prune",
    ),
    (with_config("empty", {}), "compress.configs.empty", "compresses nothing"),
    (with_config("Bad-Name", {"prune": {}}), "compress.configs.Bad-Name", "1 to 64 characters of a-z, 0-9"),
    *(
        (with_config(name, {"prune": {}}), f"compress.configs.{name}", "of a-z, 0-9, _ and +, the first a-z")
        for name in ("prune_0.5", "a-b", "a/b", "a b", ".", "..", "_x", "+x", "", "x" * 65)
    ),
    (with_change("prepare", "root", ""), "prepare.root", "must be null for data/raw, or a folder"),
    (with_change("prepare", "root", "  "), "prepare.root", "must be null for data/raw, or a folder"),
    (with_change("runtime", "device", "tpu"), "runtime.device", "allowed: cpu, cuda"),
    (with_change("runtime", "threads", -1), "runtime.threads", ">= 0"),
    (with_change("train", "threads", 1), "train.threads", "allowed: epochs"),  # moved to runtime
    # every seed-like option is bounded, so a huge seed is one line, not a traceback in torch
    (with_change("population", "seeds", [0, 2**64]), "population.seeds[1]", f"<= {2**32 - 1}"),
    (with_change("prepare", "split_seed", 2**32), "prepare.split_seed", f"<= {2**32 - 1}"),
    (with_change("saliency", "sample_seed", 2**32), "saliency.sample_seed", f"<= {2**32 - 1}"),
    (with_change("corrupt", "seed", 2**32), "corrupt.seed", f"<= {2**32 - 1}"),
    (with_change("representations", "sample_seed", 2**32), "representations.sample_seed", f"<= {2**32 - 1}"),
    (
        with_config("q", {"quantize": {"calibration_seed": 2**32}}),
        "compress.configs.q.quantize.calibration_seed",
        f"<= {2**32 - 1}",
    ),
    (with_config("dense", {"prune": {}}), "compress.configs.dense", "must exist and compress nothing"),
    (with_change("predict", "batch_size", 1) | {"runtime": None}, "runtime", "must be a mapping"),
]


@pytest.mark.parametrize(("raw", "key", "allowed"), CASES, ids=[c[1] for c in CASES])
def test_bad_values_name_key_and_allowed(raw: dict[str, Any], key: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as info:
        build(Params, raw, "")
    message = str(info.value)
    assert message.startswith(f"{key}:"), message
    assert allowed in message
    assert "\n" not in message


def test_defaults_match_params_yaml() -> None:
    """params.yaml holds the dataclasses' defaults with every option spelled out: no value that can change
    a result is left to a default hidden in the code."""
    assert to_dict(load_params(REPO / "params.yaml")) == to_dict(Params())
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    defaults = to_dict(Params())
    assert list(raw) == list(defaults)
    for section in raw:
        if section != "compress":
            assert raw[section] == defaults[section], section  # every key, nested ones included
    assert build(CompressParams, raw["compress"], "compress").configs == _default_configs()
    assert list(raw["compress"]["configs"]) == list(_default_configs())


def test_every_compression_spec_in_params_yaml_spells_out_every_field() -> None:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    fields = {
        "prune": [f.name for f in dataclasses.fields(PruneSpec)],
        "quantize": [f.name for f in dataclasses.fields(QuantSpec)],
    }
    for name, config in raw["compress"]["configs"].items():
        for kind, spec in config.items():
            assert sorted(spec) == sorted(fields[kind]), f"compress.configs.{name}.{kind}"


def test_every_seed_like_option_is_bounded() -> None:
    classes = [type(getattr(Params(), f.name)) for f in dataclasses.fields(Params)] + [PruneSpec, QuantSpec]
    seeds = [(c.__name__, f) for c in classes for f in dataclasses.fields(c) if "seed" in f.name]
    assert len(seeds) == 6  # population.seeds, prepare.split_seed, three sample seeds, calibration_seed
    for owner, f in seeds:
        assert f.metadata["le"] == MAX_SEED == 2**32 - 1, f"{owner}.{f.name}"


def test_a_key_written_twice_is_an_error_naming_it_and_its_lines(tmp_path: Path) -> None:
    """yaml.safe_load would keep the second silently, so editing the first would change nothing."""
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(to_dict(Params()), sort_keys=False) + "train:\n  epochs: 9\n")
    with pytest.raises(ConfigError, match=r"params\.yaml: train: duplicate key on line \d+ \(first on line"):
        load_params(path)
    path.write_text("train:\n  epochs: 3\n  lr: 0.1\n  epochs: 4\n")
    with pytest.raises(ConfigError) as info:
        load_params(path)
    assert str(info.value) == f"{path}: epochs: duplicate key on line 4 (first on line 2)"


def test_yaml_merge_keys_may_still_be_overridden(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("base: &base {epochs: 3, lr: 0.1}\ntrain:\n  <<: *base\n  epochs: 4\n")
    assert read_yaml(path)["train"] == {"epochs": 4, "lr": 0.1}


def test_valid_values_are_converted(params_file: Path) -> None:
    params = load_params(params_file)
    assert params.population.seeds == (0, 1)
    assert isinstance(params.train.lr, float)
    assert params.prepare.root is None


def test_file_problems_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml: file not found"):
        load_params(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML"):
        load_params(bad)
