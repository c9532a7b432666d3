"""The top-level plots of dvc.yaml through DVC's own converter and renderer (what ``dvc plots show/diff``
run), on tiny tables in the owner's columns (pipeline/io/report.py): the custom templates in .dvc/plots/
are filled completely, read only the owner's columns, and draw every config, by name, on one chart."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from dvc.render.converter.vega import VegaConverter
from dvc_render import VegaRenderer

from pipeline.io import report as layout

from ..conftest import REPO
from .test_layout import DVC

TEMPLATES = REPO / ".dvc" / "plots"  # where DVC looks for a plot's `template:` by name
DVC_FIELDS = {"rev", "field", "filename"}  # what DVC adds to every row
COMPUTED = {"label", "row", "revisions", "last_x", "last_layer", "layer_number"}  # what the templates compute
CONFIGS = ("dense", "magnitude_50", "int8_static")

TABLES: dict[str, tuple[tuple[str, ...], list[dict[str, Any]]]] = {
    layout.COMPRESSION: (
        layout.COMPRESSION_COLUMNS,
        [
            dict.fromkeys(layout.COMPRESSION_COLUMNS, "0.5") | {"config": c, "size_ratio": str(r)}
            for c, r in zip(CONFIGS, (1.0, 0.5, 0.25), strict=True)
        ],
    ),
    layout.ROBUSTNESS: (
        (*layout.ROBUSTNESS_COLUMNS[:2], "noise", "mean"),
        [
            {"config": c, "severity": str(s), "noise": "0.5", "mean": str(1 - s / 10 - i / 20)}
            for i, c in enumerate(CONFIGS)
            for s in (0, 2, 10)
        ],
    ),
    layout.CKA: (
        layout.CKA_COLUMNS,
        [
            {"config": c, "layer_index": str(i), "layer": f"l{i}"}
            | {"linear_cka": "0.9", "floor_linear_cka": "0.9"}
            for c in CONFIGS[1:]
            for i in range(11)
        ],
    ),
}


def report_plots() -> dict[str, dict[str, Any]]:
    """dvc.yaml's top-level plots of the report's tables: plot id -> its definition."""
    found = {}
    for entry in DVC["plots"]:
        name, spec = next(iter(entry.items()))
        ys = spec.get("y") if isinstance(spec, dict) else None
        if isinstance(ys, dict) and all(Path(p).parent == Path("reports/plots") for p in ys):
            found[name] = spec
    return found


PLOTS = report_plots()


def filled(plot_id: str, revisions: tuple[str, ...] = ("workspace",)) -> dict[str, Any]:
    """The vega-lite spec DVC makes of the plot, each revision with the same tiny table."""
    definition = PLOTS[plot_id]
    datapoints: list[dict[str, Any]] = []
    properties: dict[str, Any] = {}
    for rev in revisions:
        data = {path: TABLES[Path(path).name][1] for path in definition["y"]}
        points, properties = VegaConverter(plot_id, data, dict(definition)).flat_datapoints(rev)
        datapoints += points
    renderer = VegaRenderer(datapoints, plot_id, **properties, template_dir=str(TEMPLATES))
    return renderer.get_filled_template()


def fields(spec: Any) -> set[str]:
    """Every column a spec names: its ``field`` values and its expressions' ``datum.x``/``datum['x']``."""
    text = json.dumps(spec)
    named = set(re.findall(r'"field": "([^"]+)"', text))
    return named | set(re.findall(r"datum\.(\w+)", text)) | set(re.findall(r"datum\['(\w+)'\]", text))


def test_the_report_plots_use_the_projects_templates() -> None:
    assert len(PLOTS) == 3
    for plot_id, definition in PLOTS.items():
        assert (TEMPLATES / f"{definition['template']}.json").is_file(), plot_id


@pytest.mark.parametrize("plot_id", list(PLOTS))
def test_dvc_fills_every_anchor_and_the_spec_reads_only_the_owners_columns(plot_id: str) -> None:
    spec = filled(plot_id)
    assert "<DVC_METRIC" not in json.dumps(spec)
    (path,) = PLOTS[plot_id]["y"]
    columns = set(TABLES[Path(path).name][0])
    assert "config" in fields(spec)
    assert fields(spec) <= columns | DVC_FIELDS | COMPUTED | {"dvc_inferred_y_value"}, plot_id
    assert {row["config"] for row in spec["data"]["values"]} >= set(CONFIGS[1:])


@pytest.mark.parametrize("plot_id", list(PLOTS))
@pytest.mark.parametrize("revisions", [("workspace",), ("workspace", "main")])
def test_every_config_is_drawn_and_named_on_one_chart(plot_id: str, revisions: tuple[str, ...]) -> None:
    """Rendered as a browser would (Vega through vl-convert): one chart whose text holds each config's
    name, and with two revisions (dvc plots diff) each name with its revision."""
    vl_convert = pytest.importorskip("vl_convert")
    svg = vl_convert.vegalite_to_svg(filled(plot_id, revisions), vl_version="v5.21")
    texts = re.findall(r"<text[^>]*>([^<]+)</text>", svg)
    (path,) = PLOTS[plot_id]["y"]
    configs = {row["config"] for row in TABLES[Path(path).name][1]}
    panels = len(PLOTS[plot_id]["y"][path]) if isinstance(PLOTS[plot_id]["y"][path], list) else 1
    for config in configs:
        if len(revisions) == 1:  # in the legend, and labelled once per panel (a line at its last x)
            assert texts.count(config) == 1 + panels, config
        else:  # the legend, then each revision's label on each panel
            assert texts.count(config) == 1
            assert all(texts.count(f"{config} @ {rev}") == panels for rev in revisions), config
