from __future__ import annotations

import pytest

from pipeline.stages.report import population_summary


def test_population_summary_uses_the_sample_std() -> None:
    summary = population_summary([{"top1": 0.90}, {"top1": 0.92}, {"top1": 0.94}])
    assert summary["top1"] == pytest.approx(0.92)
    assert summary["top1_std"] == pytest.approx(0.02)  # ddof=1: sqrt((0.02² + 0 + 0.02²) / 2)
    assert (summary["top1_min"], summary["top1_max"], summary["members"]) == (0.90, 0.94, 3)


def test_a_single_member_has_zero_spread() -> None:
    assert population_summary([{"top1": 0.5}])["top1_std"] == 0.0
