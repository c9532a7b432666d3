"""The report's output layout (pipeline/io/report.py) and dvc.yaml agree: the report stage's outs and
metrics (the folder of per-config headline files), the top-level metrics and the plots of the report's
tables are the owner's paths."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.io import report as layout

from ..conftest import REPO

DVC = yaml.safe_load((REPO / "dvc.yaml").read_text())
STAGE = DVC["stages"]["report"]
OUT = Path(shlex.split(STAGE["cmd"])[shlex.split(STAGE["cmd"]).index("--out") + 1])
FOLDER = layout.ReportFolder(OUT)


def paths(entries: list[Any]) -> list[str]:
    """The paths of a dvc.yaml outs/metrics/plots list (an entry is a path or a one-key mapping)."""
    return [next(iter(entry)) if isinstance(entry, dict) else entry for entry in entries]


def test_the_stage_writes_into_one_folder_and_declares_the_owners_outputs() -> None:
    assert FOLDER.root == Path("reports")  # the folder dvc.yaml passes
    outs = {Path(p) for p in paths(STAGE["outs"])}
    assert outs == {FOLDER.page(), FOLDER.figures(), FOLDER.plots(), FOLDER.results()}
    assert [Path(p) for p in paths(STAGE["metrics"])] == [FOLDER.metrics()]
    assert FOLDER.metrics() in {Path(p) for p in paths(DVC["metrics"])}


def test_the_plots_of_the_report_tables_are_the_owners_paths() -> None:
    """Every top-level plot under the plots folder names a table the owner writes, and each of the three
    is plotted."""
    plots = FOLDER.plots()
    declared = set()
    for entry in DVC["plots"]:
        name, spec = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
        ys = spec.get("y") if isinstance(spec, dict) else None
        for path in [name, *(ys if isinstance(ys, dict) else {})]:
            if Path(path).is_relative_to(plots):
                declared.add(Path(path))
    owned = {layout.compression_table(plots), layout.robustness_table(plots), layout.cka_table(plots)}
    assert declared == owned


def test_the_page_refers_to_a_figure_by_a_path_relative_to_its_folder(tmp_path: Path) -> None:
    folder = layout.ReportFolder(tmp_path)
    name = layout.figure_name("activation_max:magnitude_70+int8_static")
    assert name == "activation_max_magnitude_70+int8_static.png"
    assert folder.page().parent / layout.figure_src(name) == folder.figures() / name


def test_the_metrics_folder_holds_one_file_per_config(tmp_path: Path) -> None:
    """Written as a whole: a config gone from the study leaves no file behind."""
    folder = layout.ReportFolder(tmp_path)
    layout.write_metrics(folder, {"dense": {"top1": 0.9}, "fp16": {"top1": 0.9}})
    layout.write_metrics(folder, {"dense": {"top1": 0.8}})
    assert sorted(p.name for p in folder.metrics().iterdir()) == ["dense.json"]
    assert json.loads(folder.metrics_file("dense").read_text()) == {"top1": 0.8}


def test_results_are_read_back_and_anything_else_is_named(tmp_path: Path) -> None:
    folder = layout.ReportFolder(tmp_path)
    layout.write_results(folder, {"dense": {"top1": 0.9, "members": 5}})
    assert layout.parse_results(folder.results().read_text(), "x") == {"dense": {"top1": 0.9, "members": 5}}
    with pytest.raises(ValueError, match=r"^at HEAD: not JSON"):
        layout.parse_results("{", "at HEAD")
    with pytest.raises(ValueError, match=r"^at HEAD: not a mapping of config -> numbers$"):
        layout.parse_results('{"dense": 1}', "at HEAD")
