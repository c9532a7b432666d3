"""Numbers on their way out: one rule for JSON and CSV (NaN and infinities are None, NumPy scalars plain
Python numbers) and one for logs and messages (four decimals, ``n/a`` for a missing number)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def clean(value: Any) -> Any:
    """``value`` ready for JSON: NaN and infinities as None (JSON has no NaN), NumPy scalars as Python
    numbers; anything else as it is."""
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def finite(value: Any) -> float | None:
    """``value`` as a float, or None for a missing, boolean or non-finite number (a cell read back)."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None
    out: float | None = clean(float(value))
    return out


def fmt(value: Any, digits: int = 4) -> str:
    """A number for a log line or a message: integers as they are, others with ``digits`` decimals,
    ``n/a`` for None, NaN or infinity."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    number = None if value is None else finite(value)
    return "n/a" if number is None else f"{number:.{digits}f}"
