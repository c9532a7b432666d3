"""Each stage depends on the fingerprint of exactly the files its entry module imports (the ``code`` stage,
pipeline/closure.py), and on no pipeline/ file directly.

A file missing from a fingerprint means editing it would not rerun the stage (a stale result); an extra one
means editing it reruns the stage for nothing.  Other deps (data/..., params) are checked elsewhere.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
from pathlib import Path
from typing import Any

import yaml

from pipeline.closure import closure
from pipeline.io.code import fingerprint_path, read_fingerprint
from pipeline.io.files import file_sha256
from pipeline.stages import code

from .conftest import REPO

STAGE_FILES = [REPO / "dvc.yaml", *sorted(REPO.glob("families/*/dvc.yaml"))]
EXPECTED = {"code", "validate", "prepare", "corrupt", "train", "compress", "predict", "stats", "pie"} | {
    "atypicality",
    "traits",
    "saliency_reference",
    "saliency",
    "robustness",
    "representations_reference",
    "representations",
    "report",
}


def stages() -> dict[str, dict[str, Any]]:
    found = {}
    for path in STAGE_FILES:
        for name, stage in yaml.safe_load(path.read_text())["stages"].items():
            found[name] = stage.get("do", stage)
    return found


STAGES = stages()


def entry_module(body: dict[str, Any]) -> Path:
    argv = shlex.split(body["cmd"])
    assert argv[:2] == ["python", "-m"], body["cmd"]
    return REPO.joinpath(*argv[2].split(".")).with_suffix(".py")


def test_every_stage_family_is_checked() -> None:
    assert set(STAGES) >= EXPECTED


def test_closure_follows_function_level_and_package_imports() -> None:
    """The helper itself: a lazy import inside a function and the parent packages' __init__ count."""
    files = closure(REPO, REPO / "pipeline/stages/report.py")
    assert {"pipeline/__init__.py", "pipeline/stages/__init__.py", "pipeline/report/__init__.py"} <= files
    assert "pipeline/report/figures.py" in files  # imported inside a function of report/write.py
    assert "pipeline/training/loop.py" not in files  # the report trains nothing


def test_each_stage_depends_on_its_own_fingerprint_and_on_no_pipeline_file() -> None:
    for name, body in sorted(STAGES.items()):
        deps = body.get("deps", [])
        if name == "code":
            assert deps == ["pipeline"] and body["outs"] == ["data/code"], name
            continue
        assert f"data/code/{entry_module(body).stem}.json" in deps, name
        assert not [d for d in deps if d.startswith("pipeline")], name


def test_the_code_stage_fingerprints_every_stage_with_its_closure(tmp_path: Path) -> None:
    code.main(argparse.Namespace(out=str(tmp_path / "code")))
    written = {p.stem for p in (tmp_path / "code").iterdir()}
    assert written >= {entry_module(body).stem for body in STAGES.values()}
    for name, body in STAGES.items():
        files = read_fingerprint(tmp_path / "code", entry_module(body).stem)
        assert set(files) == closure(REPO, entry_module(body)), name
        assert all(files[path] == file_sha256(REPO / path) for path in files), name
    text = fingerprint_path(tmp_path / "code", "compress").read_text()
    assert json.loads(text)["stage"] == "compress"


def test_a_fingerprint_changes_exactly_when_a_file_its_stage_imports_changes(tmp_path: Path) -> None:
    shutil.copytree(REPO / "pipeline", tmp_path / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))

    def prints() -> dict[str, dict[str, str]]:
        return {e.stem: code.fingerprint(tmp_path, e) for e in code.stage_modules(tmp_path)}

    before = prints()
    figures = tmp_path / "pipeline/report/figures.py"
    figures.write_text(figures.read_text() + "\n# an edit\n")
    after = prints()
    changed = {stage for stage in before if before[stage] != after[stage]}
    assert changed == {stage for stage in before if "pipeline/report/figures.py" in before[stage]}
    assert "report" in changed and "compress" not in changed and "train" not in changed


def test_the_stages_that_set_torch_up_declare_the_runtime_params() -> None:
    """runtime.threads and runtime.device can change a torch stage's last bits: exactly the stages that
    import pipeline/runtime.py declare the ``runtime`` section."""
    for name, body in sorted(STAGES.items()):
        uses = "pipeline/runtime.py" in closure(REPO, entry_module(body))
        assert uses == ("runtime" in body.get("params", [])), name
