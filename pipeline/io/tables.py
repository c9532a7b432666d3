"""CSV tables of the analysis stages, written atomically with a fixed header (also when empty).

A missing value (None, NaN) is an empty cell.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.io.files import atomic_path


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
