"""Bad input under the commands users run (`dvc repro`, `dvc repro -s`, `dvc exp run -S`) on the tiny study
(tests/e2e_study.py): every case exits non-zero, prints one line naming the key or file and what is
wrong, and leaves every file of the workspace as it was (hashed before and after; params.yaml, which the
case itself edits, aside)."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .e2e_study import env, restore

pytestmark = pytest.mark.e2e

NOT_HASHED = {".git", "tmp"}  # git's own files; .dvc/tmp (DVC's locks and logs)


def workspace(repo: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file of the study but params.yaml (DVC's cache included)."""
    digests = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo)
        if rel.parts[0] == ".git" or rel.parts[:2] == (".dvc", "tmp") or rel == Path("params.yaml"):
            continue
        if path.is_file() and not path.is_symlink():
            digests[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir() and not any(path.iterdir()):
            digests[f"{rel}/"] = "empty folder"
    return digests


def dvc(repo: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["dvc", *argv], cwd=repo, env=env(), capture_output=True, text=True, check=False)


Edit = Callable[[dict[str, Any]], None]


def setting(path: str, value: Any) -> Edit:
    """An edit that sets the dotted key ``path`` (created if missing) to ``value``."""
    *parents, last = path.split(".")

    def edit(raw: dict[str, Any]) -> None:
        node = raw
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return edit


def config_named(name: str) -> Edit:
    """Adds a pruning config called ``name`` (a copy of magnitude_50)."""

    def edit(raw: dict[str, Any]) -> None:
        configs = raw["compress"]["configs"]
        configs[name] = dict(configs["magnitude_50"])

    return edit


def removing(path: str) -> Edit:
    *parents, last = path.split(".")

    def edit(raw: dict[str, Any]) -> None:
        node = raw
        for key in parents:
            node = node[key]
        del node[last]

    return edit


# (case id, edit of params.yaml, text the error line must contain)
PARAM_CASES: list[tuple[str, Edit, str]] = [
    ("negative-epochs", setting("train.epochs", -1), "train.epochs"),
    ("epochs-as-text", setting("train.epochs", "three"), "train.epochs"),
    ("zero-lr", setting("train.lr", 0), "train.lr"),
    ("unknown-optimizer", setting("train.optimizer", "adam"), "train.optimizer"),
    ("unknown-schedule", setting("train.schedule", "linear"), "train.schedule"),
    ("unknown-augmentation", setting("train.augment", ["flip"]), "train.augment[0]"),
    ("misspelled-key", setting("train.epoch", 3), "train.epoch"),
    ("misspelled-section", setting("trian.epochs", 3), "trian"),
    ("no-seeds", setting("population.seeds", []), "population.seeds"),
    ("repeated-seed", setting("population.seeds", [0, 0]), "population.seeds"),
    ("negative-seed", setting("population.seeds", [0, -1]), "population.seeds[1]"),
    ("huge-seed", setting("population.seeds", [0, 2**64]), "population.seeds[1]"),
    ("unknown-dataset", setting("prepare.dataset", "mnist"), "prepare.dataset"),
    ("val-fraction-too-big", setting("prepare.val_fraction", 0.7), "prepare.val_fraction"),
    ("empty-data-root", setting("prepare.root", ""), "prepare.root"),
    ("unknown-arch", setting("model.arch", "not_a_model_at_all"), "model.arch"),
    ("unknown-device", setting("runtime.device", "tpu"), "runtime.device"),
    ("negative-threads", setting("runtime.threads", -2), "runtime.threads"),
    ("dense-compresses", setting("compress.configs.dense", {"quantize": {"method": "fp16"}}), "dense"),
    ("no-dense", removing("compress.configs.dense"), "compress.configs.dense"),
    ("sparsity-above-one", setting("compress.configs.magnitude_50.prune.sparsity", 1.5), "sparsity"),
    ("unknown-prune-method", setting("compress.configs.magnitude_50.prune.method", "l1"), "prune.method"),
    ("bad-bit-width", setting("compress.configs.int8_static.quantize.weight_bits", 4), "weight_bits"),
    # DVC itself refuses this one before running anything: `data/predict/clean/...d` is inside the
    # data/predict/clean that stats depends on ("Same item(s) are defined as both a dependency and an
    # output").
    ("config-dot-dot", config_named(".."), "predict@.."),
    ("config-dot", config_named("."), "compress.configs"),
    ("config-slash", config_named("a/b"), "compress.configs"),
    ("config-absolute", config_named("/tmp/elsewhere"), "compress.configs"),
    ("config-dotted", config_named("prune_0.5"), "compress.configs"),
    ("config-space", config_named("has space"), "compress.configs"),
    ("config-upper", config_named("Magnitude"), "compress.configs"),
    ("alpha-above-one", setting("stats.alpha", 1.5), "stats.alpha"),
    ("gallery-zero-columns", setting("pie.gallery_columns", 0), "pie.gallery_columns"),
    ("unknown-saliency-method", setting("saliency.method", "lime"), "saliency.method"),
    ("severity-six", setting("corrupt.severities", [6]), "corrupt.severities[0]"),
    ("unknown-corruption", setting("corrupt.corruptions", ["fog"]), "corrupt.corruptions[0]"),
    ("svcca-keep-zero", setting("representations.svcca_keep", 0), "representations.svcca_keep"),
]


@pytest.fixture
def repo(study: Path) -> Any:
    """The study with its params.yaml put back after the case (and everything else if a case failed)."""
    committed = (study / "params.yaml").read_text()
    yield study
    (study / "params.yaml").write_text(committed)
    if dvc(study, "status").stdout.strip() != "Data and pipelines are up to date.":
        restore(study)


def edit(repo: Path, change: Edit) -> None:
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    change(raw)
    (repo / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def assert_refused(result: subprocess.CompletedProcess[str], expected: str) -> str:
    """Non-zero exit and one line containing ``expected``: the stage's `error:` line, or else DVC's own
    `ERROR:` line where DVC refuses the value before it runs any stage; returns that line."""
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    lines = [line for line in out.splitlines() if line.startswith("error: ")]
    lines = lines or [line for line in out.splitlines() if line.startswith("ERROR: ")][:1]
    assert len(lines) == 1 and expected in lines[0], out
    return lines[0]


@pytest.mark.parametrize(
    ("change", "expected"), [c[1:] for c in PARAM_CASES], ids=[c[0] for c in PARAM_CASES]
)
def test_a_bad_value_under_dvc_repro_touches_nothing(repo: Path, change: Edit, expected: str) -> None:
    before = workspace(repo)
    edit(repo, change)
    result = dvc(repo, "repro")
    line = assert_refused(result, expected)
    if line.startswith("error: "):  # stopped by the validate stage, before any other stage ran
        assert "failed to reproduce 'validate'" in result.stderr + result.stdout
    assert workspace(repo) == before


def test_duplicate_keys_are_refused(repo: Path) -> None:
    """DVC's own YAML reader refuses a duplicate key before any stage runs (the stages' reader does too
    when a stage is run by hand: tests/test_config.py)."""
    before = workspace(repo)
    text = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(text.replace("train:\n", "train:\n  epochs: 2\n", 1))
    result = dvc(repo, "repro")
    out = result.stdout + result.stderr
    assert result.returncode != 0 and 'found duplicate key "epochs"' in out and "params.yaml" in out, out
    assert workspace(repo) == before


def test_invalid_yaml_is_refused(repo: Path) -> None:
    before = workspace(repo)
    (repo / "params.yaml").write_text((repo / "params.yaml").read_text() + "train: [unclosed\n")
    result = dvc(repo, "repro")
    assert result.returncode != 0 and "params.yaml" in result.stdout + result.stderr
    assert workspace(repo) == before


def test_a_value_only_the_stage_can_check_restores_what_dvc_removed(repo: Path) -> None:
    """representations.units above the layer's channels passes validate (it takes the built model to
    know); the stage refuses it after DVC removed its outputs, and puts them back from DVC's cache. The
    one thing DVC records is that validate passed for the new params.yaml (its lock entry and run-cache
    entry); every other file, outputs included, is as it was."""
    before, lock = workspace(repo), yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    edit(repo, setting("representations.units", 1000))
    assert_refused(dvc(repo, "repro"), "representations.units")
    after, relock = workspace(repo), yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    changed = set(before) ^ set(after) | {path for path in before if before[path] != after.get(path)}
    assert all(path == "dvc.lock" or path.startswith(".dvc/cache/runs/") for path in changed), changed
    assert {name for name in lock if lock[name] != relock[name]} <= {"validate"}


@pytest.mark.parametrize(
    ("target", "change", "expected"),
    [
        ("report", setting("population.seeds", [0, "one"]), "population.seeds[1]"),
        ("train@0", setting("train.epochs", -1), "train.epochs"),
        (
            "families/compress/dvc.yaml:compress@magnitude_50-0",
            setting("compress.configs.magnitude_50.prune.sparsity", 1.5),
            "compress.configs.magnitude_50.prune.sparsity",
        ),
        ("families/predict/dvc.yaml:predict@dense", setting("predict.batch_size", 0), "predict.batch_size"),
        ("stats", setting("stats.confidence", 2), "stats.confidence"),
        ("families/saliency/dvc.yaml:saliency@dense", setting("saliency.steps", 1), "saliency.steps"),
    ],
    ids=["report", "train", "compress", "predict", "stats", "saliency"],
)
def test_a_single_stage_run_restores_what_dvc_removed(
    repo: Path, target: str, change: Edit, expected: str
) -> None:
    """`dvc repro -s` skips validate and DVC removes the stage's outputs before its command starts: the
    stage refuses the value and puts its outputs back from DVC's cache."""
    before = workspace(repo)
    edit(repo, change)
    assert_refused(dvc(repo, "repro", "-s", target), expected)
    assert workspace(repo) == before


PATH_LIKE = ["..", ".", "a/b", "/tmp/elsewhere", "x/../../..", ""]
SHELL_LIKE = ["x;touch pwned", "$(touch pwned)", "`touch pwned`"]  # nothing may run: no ${...} in commands


@pytest.mark.parametrize("name", PATH_LIKE + SHELL_LIKE)
@pytest.mark.parametrize("family", ["compress", "predict", "saliency", "representations"])
def test_a_config_name_cannot_reach_outside_its_folder(repo: Path, family: str, name: str) -> None:
    """Even run alone (`dvc repro -s`, no validate stage before it), a stage of a config with a path-like
    name removes and writes nothing: its output path stays inside the family's folder and the stage
    refuses the name before it writes."""
    before = workspace(repo)
    edit(repo, config_named(name))
    stage = f"compress@{name}-0" if family == "compress" else f"{family}@{name}"
    result = dvc(repo, "repro", "-s", f"families/{family}/dvc.yaml:{stage}")
    assert result.returncode != 0, result.stdout + result.stderr
    assert workspace(repo) == before
    assert not Path("/tmp/elsewhere").exists() and not list(repo.rglob("pwned"))


@pytest.mark.parametrize("seed", ["../..", "x/../../..", "/tmp/elsewhere", "0;touch pwned"])
def test_a_seed_that_is_not_a_number_cannot_reach_outside_its_folder(repo: Path, seed: str) -> None:
    """population.seeds items go into train@seed's and compress@config-seed's output paths: a string there,
    run alone, removes and writes nothing and runs nothing."""
    before = workspace(repo)
    edit(repo, setting("population.seeds", [0, 1, seed]))
    for target in (f"train@{seed}", f"families/compress/dvc.yaml:compress@dense-{seed}"):
        result = dvc(repo, "repro", "-s", target)
        assert result.returncode != 0, result.stdout + result.stderr
        assert workspace(repo) == before
    assert not Path("/tmp/elsewhere").exists() and not list(repo.rglob("pwned"))


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ("train.epochs=-1", "train.epochs"),
        ("compress.configs.magnitude_50.prune.sparsity=2", "sparsity"),
        ("corrupt.severities=[0]", "corrupt.severities[0]"),
    ],
)
def test_an_experiment_with_a_bad_value_touches_nothing(repo: Path, assignment: str, expected: str) -> None:
    before = workspace(repo)
    assert_refused(dvc(repo, "exp", "run", "-S", assignment), expected)
    assert workspace(repo) == before


def flip_byte(path: Path, offset_from_end: int = 64) -> None:
    """Change one byte of ``path`` (by default near its end: tensor data, pixels, a Parquet footer)."""
    data = bytearray(path.read_bytes())
    data[-offset_from_end] ^= 0x01
    path.write_bytes(bytes(data))


def flip_middle(path: Path) -> None:
    """Change one byte in the middle of ``path`` (a Parquet file's data pages)."""
    flip_byte(path, path.stat().st_size // 2)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    ("damaged", "damage", "target"),
    [
        ("data/compress/dense/seed_0.safetensors", flip_byte, "families/predict/dvc.yaml:predict@dense"),
        (
            "data/train/seed_1/model.safetensors",
            truncate,
            "families/compress/dvc.yaml:compress@int8_static-1",
        ),
        ("data/prepare/train_images.npy", flip_byte, "train@0"),
        ("data/prepare/test_labels.npy", flip_byte, "pie"),
        ("data/corrupt/views.json", truncate, "families/predict/dvc.yaml:predict@int8_static"),
        ("data/corrupt/rotate-5.npy", flip_byte, "families/predict/dvc.yaml:predict@dense"),
        ("data/predict/clean/magnitude_50.d/seed_1.parquet", truncate, "stats"),
        ("data/predict/corrupted/dense.d/rotate-1/seed_0.parquet", flip_middle, "robustness"),
        ("data/saliency/int8_static.d/summary.json", truncate, "report"),
    ],
    ids=lambda v: v if isinstance(v, str) and "/" in v and not v.startswith("stages") else None,
)
def test_a_damaged_input_is_one_line_naming_it_and_costs_no_file(
    repo: Path, damaged: str, damage: Callable[[Path], None], target: str
) -> None:
    """A truncated or altered input, run under `dvc repro -s` (plain `dvc repro` would first rerun the
    stage that wrote it): one line naming the file, and the stage's removed outputs put back."""
    damage(repo / damaged)
    before = workspace(repo)
    line = assert_refused(dvc(repo, "repro", "-s", target), damaged)
    assert line.startswith("error: ")
    assert workspace(repo) == before
