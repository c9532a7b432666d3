"""The stage entry points stay thin (README "Layout"): each exposes its argument parser and a ``main`` of at
most ``MAIN_LINES`` lines that reads params, loads inputs, calls the library and writes through the
outputs' owners. Rows, summaries and figures are built in the library, where they are tested."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import REPO

MAIN_LINES = 30  # the budget of issue 13; ruff's statement and complexity limits hold the rest
STAGES = sorted(p for p in (REPO / "pipeline" / "stages").glob("*.py") if not p.name.startswith("_"))


def functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def body_lines(node: ast.FunctionDef) -> int:
    """Lines of the function's body, its docstring left out."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1 if body else 0


@pytest.mark.parametrize("path", STAGES, ids=[p.stem for p in STAGES])
def test_a_stage_exposes_its_parser_and_a_thin_main(path: Path) -> None:
    found = functions(path)
    assert "build_parser" in found, f"{path.name}: no build_parser() (tests call the real CLI through it)"
    assert "main" in found, f"{path.name}: no main(args)"
    lines = body_lines(found["main"])
    assert lines <= MAIN_LINES, f"{path.name}: main is {lines} lines, more than {MAIN_LINES}"


@pytest.mark.parametrize("path", STAGES, ids=[p.stem for p in STAGES])
def test_a_stage_builds_no_rows_or_figures_itself(path: Path) -> None:
    """A stage module holds build_parser, main and at most two small helpers; anything larger is library
    code (tested on its own, reusable by the report and by other stages)."""
    found = functions(path)
    helpers = {name: body_lines(node) for name, node in found.items() if name not in {"build_parser", "main"}}
    assert len(helpers) <= 2, f"{path.name}: {sorted(helpers)} belong in the library"
    assert all(lines <= 15 for lines in helpers.values()), f"{path.name}: helpers too long: {helpers}"
