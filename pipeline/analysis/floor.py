"""The noise floor: a measure taken between the dense members of every pair of seeds, the yardstick each
config's dense-vs-compressed number is read against (churn, saliency, representations; SPEC 7, 9, 11)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def seed_pairs(seeds: Sequence[int]) -> list[tuple[int, int]]:
    """Every pair of distinct seeds, ``(seeds[i], seeds[j])`` with ``i < j``, in that order."""
    return list(itertools.combinations(seeds, 2))


def over_pairs(dense: Mapping[int, T], measure: Callable[[T, T], R]) -> dict[tuple[int, int], R]:
    """``measure(dense[a], dense[b])`` for every pair of seeds, in the order of :func:`seed_pairs`."""
    return {(a, b): measure(dense[a], dense[b]) for a, b in seed_pairs(list(dense))}
