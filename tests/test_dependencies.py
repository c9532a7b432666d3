"""Each stage declares as ``pipeline/`` deps exactly the files its entry module imports, no more, no less.

A missing file means editing it would not rerun the stage (a stale result); an extra one means editing it
reruns the stage for nothing.  Other deps (data/..., params) are checked elsewhere.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO
from .import_closure import closure

STAGE_FILES = [REPO / "dvc.yaml", *sorted(REPO.glob("families/*/dvc.yaml"))]
EXPECTED = {"prepare", "corrupt", "train", "compress", "predict", "stats", "pie"} | {
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


def declared(body: dict[str, Any]) -> set[str]:
    """The stage's ``pipeline/`` deps as files; a folder dep stands for every .py file under it."""
    files: set[str] = set()
    for dep in body.get("deps", []):
        if not dep.startswith("pipeline/"):
            continue
        path = REPO / dep
        found = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        files |= {p.relative_to(REPO).as_posix() for p in found}
    return files


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


def test_declared_pipeline_deps_are_the_imported_files() -> None:
    problems = []
    for name, body in sorted(STAGES.items()):
        imported = closure(REPO, entry_module(body))
        have = declared(body)
        missing, extra = sorted(imported - have), sorted(have - imported)
        if missing:
            problems.append(f"{name}: missing {', '.join(missing)}")
        if extra:
            problems.append(f"{name}: extra {', '.join(extra)}")
    if problems:
        pytest.fail("pipeline/ deps disagree with the imports:\n" + "\n".join(problems), pytrace=False)


def test_the_stages_that_set_torch_up_declare_the_runtime_params() -> None:
    """runtime.threads and runtime.device can change a torch stage's last bits: exactly the stages that
    import pipeline/runtime.py declare the ``runtime`` section."""
    for name, body in sorted(STAGES.items()):
        uses = "pipeline/runtime.py" in closure(REPO, entry_module(body))
        assert uses == ("runtime" in body.get("params", [])), name
