"""The page's formatting helpers: numbers, n/a, floors and figures."""

from __future__ import annotations

import math

import pytest

from pipeline.report import page

from . import parse_html


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (0.12345, {}, "0.123"),
        (0.0837, {"digits": 2, "scale": 100.0}, "8.37"),
        (-0.0007, {"digits": 2, "scale": 100.0, "sign": True}, "−0.07"),
        (0.0016, {"digits": 2, "scale": 100.0, "sign": True}, "+0.16"),
        (None, {}, page.NA),
        (math.nan, {}, page.NA),
        (math.inf, {}, page.NA),
    ],
)
def test_number(value: float | None, kwargs: dict[str, object], text: str) -> None:
    assert page.number(value, **kwargs) == text  # type: ignore[arg-type]


def test_count_and_missing_values() -> None:
    assert page.count(6) == "6" and page.count(3.0) == "3" and page.count(None) == page.NA


@pytest.mark.parametrize(
    ("value", "floor", "above", "beyond"),
    [
        (0.2, 0.1, True, True),
        (0.1, 0.1, True, False),  # at the floor is within it
        (0.05, 0.1, True, False),
        (0.8, 0.9, False, True),
        (0.95, 0.9, False, False),
        (None, 0.1, True, False),
        (0.2, None, True, False),
        (math.nan, 0.1, True, False),
    ],
)
def test_beyond_floor(value: float | None, floor: float | None, above: bool, beyond: bool) -> None:
    assert page.beyond_floor(value, floor, above) is beyond


def test_cells_and_tables_are_well_formed() -> None:
    rows = ["<tr>" + page.cell("1.0", beyond=True) + page.cell("x", numeric=False) + "</tr>"]
    html = page.table([("a", True), ("b", False)], rows, "a caption")
    parsed = parse_html(html)
    assert parsed.problems == []
    assert parsed.tables[0][1] == [("num beyond", "1.0"), ("", "x")]


def test_figure_escapes_its_source_and_says_when_there_is_no_image() -> None:
    html = page.figure('figures/a"b.png', "alt <text>", "caption")
    assert 'src="figures/a&quot;b.png"' in html and 'alt="alt &lt;text&gt;"' in html
    assert parse_html(html).problems == []
    assert "no image" in page.figure(None, "alt", "caption") and "<img" not in page.figure(None, "a", "c")
