"""pipeline/analysis/floor.py: the noise floor's seed pairs, in one order for every measure."""

from __future__ import annotations

from pipeline.analysis.floor import over_pairs, seed_pairs


def test_seed_pairs_are_every_pair_once_in_order() -> None:
    assert seed_pairs([4, 1, 7]) == [(4, 1), (4, 7), (1, 7)]
    assert seed_pairs([0]) == []


def test_over_pairs_measures_each_pair_of_the_mapping() -> None:
    values = {0: 1.0, 2: 4.0, 5: 10.0}
    assert over_pairs(values, lambda a, b: b - a) == {(0, 2): 3.0, (0, 5): 9.0, (2, 5): 6.0}
