"""pipeline/numbers.py: the one rule for numbers in JSON/CSV (clean, finite) and in logs (fmt)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.numbers import clean, finite, fmt


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (float("nan"), None),
        (math.inf, None),
        (np.float32("nan"), None),
        (np.float64(0.25), 0.25),
        (np.int64(3), 3),
        (np.bool_(True), True),
        ("text", "text"),
        (None, None),
    ],
)
def test_clean_makes_json_values(value: object, expected: object) -> None:
    out = clean(value)
    assert out == expected and type(out) is type(expected)


def test_finite_reads_a_cell_back() -> None:
    assert finite(None) is None and finite(True) is None and finite(np.bool_(False)) is None
    assert finite(float("inf")) is None and finite(np.float32(0.5)) == 0.5 and finite(2) == 2.0


def test_fmt_formats_for_a_log_line() -> None:
    assert fmt(3) == "3" and fmt(np.int64(7)) == "7"
    assert fmt(0.123456) == "0.1235" and fmt(2.0, 1) == "2.0"
    assert fmt(None) == fmt(float("nan")) == fmt(np.float32("inf")) == "n/a"
