"""Configs x metrics of several revisions as one table: the rows (revision, config), the columns the
chosen metrics, rendered as aligned text, markdown or CSV. Pure: the numbers come in as
revision -> results.json's content (config -> key -> number)."""

from __future__ import annotations

import csv
import fnmatch
import io
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.report.metrics import HEADLINE, rounded

Results = Mapping[str, Mapping[str, Any]]  # config -> key -> number
FORMATS = ("text", "md", "csv")


def select_configs(available: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """The configs matching any of the glob ``patterns`` (all for none), in ``available``'s order; a
    ValueError for a pattern that matches nothing, naming the configs."""
    if not patterns:
        return list(available)
    for pattern in patterns:
        if not fnmatch.filter(available, pattern):
            raise ValueError(f"no config matches {pattern!r}; configs: {', '.join(available)}")
    return [c for c in available if any(fnmatch.fnmatchcase(c, p) for p in patterns)]


def select_metrics(available: Sequence[str], names: Sequence[str]) -> list[str]:
    """``names`` (the headline keys for none); a ValueError for an unknown one, naming the metrics."""
    for name in names:
        if name not in available:
            raise ValueError(f"unknown metric {name!r}; metrics: {', '.join(available)}")
    return list(names) if names else [k for k in HEADLINE if k in available]


def keys_of(results: Mapping[str, Results]) -> list[str]:
    """Every key of any config of any revision, in first-seen order."""
    seen: dict[str, None] = {}
    for by_config in results.values():
        for numbers in by_config.values():
            seen.update(dict.fromkeys(numbers))
    return list(seen)


def configs_of(results: Mapping[str, Results]) -> list[str]:
    """Every config of any revision, in first-seen order."""
    seen: dict[str, None] = {}
    for by_config in results.values():
        seen.update(dict.fromkeys(by_config))
    return list(seen)


def rows(results: Mapping[str, Results], configs: Sequence[str], metrics: Sequence[str]) -> list[list[Any]]:
    """[revision, config, *numbers] per revision and config (a config a revision lacks is left out; a
    number it lacks is None)."""
    return [
        [rev, config, *(by_config[config].get(m) for m in metrics)]
        for rev, by_config in results.items()
        for config in configs
        if config in by_config
    ]


def cell(value: Any, digits: int) -> str:
    """A number with ``digits`` decimals (integers as they are), ``-`` for a missing or non-finite one."""
    number = rounded(value, digits)  # no "-0.0000"; NaN and infinities as None
    if number is None:
        return "-"
    return f"{number:.{digits}f}" if isinstance(number, float) else str(number)


def render(header: Sequence[str], table: Sequence[Sequence[Any]], fmt: str, digits: int = 4) -> str:
    """The table as ``text`` (aligned, numbers right-aligned), ``md`` or ``csv`` (numbers as stored)."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in table])
        return out.getvalue()
    cells = [list(header), *([cell(v, digits) for v in row] for row in table)]
    if fmt == "md":
        lines = ["| " + " | ".join(row) + " |" for row in cells]
        rule = "|" + "|".join("---" if i < 2 else "---:" for i in range(len(header))) + "|"
        return "\n".join([lines[0], rule, *lines[1:]]) + "\n"
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "".join(
        "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        + "\n"
        for row in cells
    )
