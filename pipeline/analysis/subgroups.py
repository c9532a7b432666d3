"""Does compression over-index on a group? PIE rate, top-1 drop and churn per attribute group.

For datasets whose test examples carry binary attributes (CelebA: ``Male``, ``Young``, ...), each
attribute splits the test set into two groups (value 1 and value 0).  A group's share of the PIEs is set
against its share of the test set: ``pie_over_index`` = PIE share / test share, above 1 when the group
holds more than its share of the forgotten examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.io.prepared import TestSplit


def subgroup_rows(
    config: str,
    attributes: np.ndarray,
    names: Sequence[str],
    pie: np.ndarray,
    dense_correct: np.ndarray,
    comp_correct: np.ndarray,
    flips: np.ndarray,
) -> list[dict[str, Any]]:
    """One row per (attribute, value) group.

    attributes: (N, A) in {0, 1}; pie: (N,) bool; dense_correct, comp_correct: (M, N) bool, members of
    the same seeds in the same rows; flips: (M, N) bool, compressed and dense member of a seed disagree.
    """
    n = attributes.shape[0]
    total_pies = int(pie.sum())
    rows = []
    for value in (1, 0):
        groups = (attributes == value).astype(np.float64)  # (N, A)
        size = groups.sum(axis=0)  # (A,)
        pies = pie.astype(np.float64) @ groups
        dense_hits = dense_correct.astype(np.float64) @ groups  # (M, A)
        comp_hits = comp_correct.astype(np.float64) @ groups
        flip_count = flips.astype(np.float64) @ groups
        with np.errstate(invalid="ignore", divide="ignore"):
            dense_top1 = (dense_hits / size).mean(axis=0)
            comp_top1 = (comp_hits / size).mean(axis=0)
            churn = (flip_count / size).mean(axis=0)
            pie_rate = pies / size
        for a, name in enumerate(names):
            test_share = float(size[a] / n) if n else float("nan")
            pie_share = float(pies[a] / total_pies) if total_pies else float("nan")
            rows.append(
                {
                    "config": config,
                    "attribute": name,
                    "value": value,
                    "examples": int(size[a]),
                    "test_share": test_share,
                    "pies": int(pies[a]),
                    "pie_rate": float(pie_rate[a]),
                    "pie_share": pie_share,
                    "pie_over_index": pie_share / test_share if test_share > 0 else float("nan"),
                    "dense_top1": float(dense_top1[a]),
                    "compressed_top1": float(comp_top1[a]),
                    "top1_drop": float(dense_top1[a] - comp_top1[a]),
                    "churn": float(churn[a]),
                }
            )
    rows.sort(key=lambda r: (list(names).index(str(r["attribute"])), -int(r["value"])))
    return rows


def attribute_columns(test: TestSplit, wanted: Sequence[str], key: str) -> list[int]:
    """The test split's attribute columns that split the subgroup table: ``wanted`` (every attribute the
    split carries when empty; none for a dataset without attributes); a ConfigError names ``key`` for an
    attribute the dataset does not carry."""
    if test.attributes is None and not wanted:
        return []
    return select_attributes(test.attribute_names, wanted, key)


def select_attributes(available: Sequence[str], wanted: Sequence[str], key: str) -> list[int]:
    """Column indices of ``wanted`` (all columns when empty); a ConfigError names ``key`` for an unknown
    attribute."""
    from pipeline.config import ConfigError

    if not wanted:
        return list(range(len(available)))
    unknown = [w for w in wanted if w not in available]
    if unknown:
        allowed = ", ".join(available) if available else "none (this dataset has no attributes)"
        raise ConfigError(f"{key}: unknown attribute {unknown[0]!r}; allowed: {allowed}")
    return [list(available).index(w) for w in wanted]
