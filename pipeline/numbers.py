"""Numbers on their way out: one rule for JSON and CSV (NaN and infinities are None, NumPy scalars plain
Python numbers), one for the files DVC compares (:func:`rounded`: six decimals, no negative zero) and one
for logs and messages (four decimals, ``n/a`` for a missing number)."""

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


# The decimals kept in the numbers DVC shows and compares (reports/metrics/, reports/results.json). A
# top-1 is a mean of k/N fractions (N test examples, a few members): exact at five decimals for N up to
# 10 000 and 5 members; six keep it exact and keep a standard deviation or an ECE to three or four
# significant digits, while a float's rounding noise (1e-16 where two means are equal) becomes 0.
DIGITS = 6


def rounded(value: Any, digits: int = DIGITS) -> Any:
    """``value`` ready for a DVC metrics file: a float rounded to ``digits`` decimals, with -0.0 as 0.0
    (a difference of equal means must not show a sign); integers, booleans, None and strings as they are;
    NaN and infinities as None (as :func:`clean`)."""
    value = clean(value)
    if isinstance(value, float):
        return round(value, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
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
