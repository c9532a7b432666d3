"""scripts/offline_plots.py: the page template it gives ``dvc plots --html-template`` makes DVC write a page
with Vega inline and no CDN script."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from dvc_render import VegaRenderer, render_html

from .conftest import REPO

_spec = importlib.util.spec_from_file_location("offline_plots", REPO / "scripts" / "offline_plots.py")
assert _spec is not None and _spec.loader is not None
offline_plots = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(offline_plots)

BUNDLE = "window.vegaEmbed = function (id, spec) {};"


def test_dvc_writes_the_bundle_inline_and_no_cdn_script(tmp_path: Path) -> None:
    renderer = VegaRenderer([{"x": 1, "y": 2, "rev": "workspace"}], "a plot", x="x", y="y")
    page = Path(render_html([renderer], tmp_path / "index.html", offline_plots.page_template(BUNDLE)))
    html = page.read_text(encoding="utf-8")
    assert VegaRenderer.SCRIPTS.strip() not in html and "<script src" not in html.replace(" ", "")
    assert "cdn" not in html.lower()
    assert html.index(BUNDLE) < html.index("vegaEmbed('#") and "{plot_divs}" not in html


@pytest.mark.parametrize("bad", ["a = '</script>';", "s = '{plot_divs}';"])
def test_a_bundle_that_would_break_the_page_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="bundle holds"):
        offline_plots.page_template(bad)


def test_the_dvc_plots_subcommand_defaults_to_show() -> None:
    assert offline_plots.dvc_arguments([]) == ["show"]
    assert offline_plots.dvc_arguments(["-o", "x"]) == ["show", "-o", "x"]
    assert offline_plots.dvc_arguments(["diff", "main"]) == ["diff", "main"]


def test_the_pinned_bundle_defines_vega_embed_and_fits_the_template() -> None:
    pytest.importorskip("vl_convert")
    bundle = offline_plots.vega_bundle()
    assert "window.vegaEmbed=" in bundle.replace(" ", "")
    assert offline_plots.page_template(bundle).count("<script") == 1
