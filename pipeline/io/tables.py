"""CSV tables of the analysis stages, written atomically with a fixed header (also when empty), and read
back with their numbers parsed.

A missing value (None, NaN) is an empty cell.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import InputCorrupt
from pipeline.io.files import atomic_path, reason, rerun


def write_table(path: Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """``rows`` under the header ``columns``; a row with another set of keys is an error."""
    with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="raise")
        writer.writeheader()
        for row in rows:
            if set(row) != set(columns):
                raise ValueError(
                    f"{path.name}: row keys {sorted(row)} differ from the header {list(columns)}"
                )
            writer.writerow({k: _cell(v) for k, v in row.items()})


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


def read_table(path: Path, text: Collection[str], writer: str) -> list[dict[str, Any]]:
    """The rows of a table :func:`write_table` wrote: cells of the ``text`` columns as strings, the others
    as numbers, ``True``/``False`` as booleans and empty cells as None. A missing or garbled file is an
    InputCorrupt naming it (``writer``: the stage that writes it)."""
    path = Path(path)
    try:
        with path.open(newline="") as handle:
            return [{k: _parse(k in text, v) for k, v in row.items()} for row in csv.DictReader(handle)]
    except FileNotFoundError:
        raise InputCorrupt(f"{path}: missing; {rerun(writer)}") from None
    except (ValueError, TypeError, csv.Error) as err:  # a cell not a number, bad UTF-8, a short row
        raise InputCorrupt(f"{path}: not a readable table (truncated or garbled) [{reason(err)}]") from None


def _parse(text: bool, cell: str) -> Any:
    if text:
        return cell
    if cell == "":
        return None
    if cell in ("True", "False"):
        return cell == "True"
    try:
        return int(cell)
    except ValueError:
        return float(cell)
