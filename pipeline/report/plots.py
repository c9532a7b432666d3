"""Rows of the small plot tables that ``dvc plots show/diff`` draws (SPEC section 12; their files and
columns: pipeline/io/report.py). Each table holds every config, named in its ``config`` column, so that the
custom templates in .dvc/plots/ draw all configs on shared axes, coloured, legended and labelled by name.

compression.csv  one row per config: kind, size ratio, sparsity, top-1 with its interval, PIE fraction,
                 churn
robustness.csv   per config (dense first, from the dense population's numbers) and severity (0 = clean):
                 top-1 averaged over each corruption family's corruptions, and over all corruptions
cka.csv          per config and layer (dense: 1): linear CKA with the dense member, beside the
                 dense-vs-dense floor (the same for every config)
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipeline.io.report import CONFIG
from pipeline.numbers import finite
from pipeline.report.load import DENSE, Inputs, member_mean

FAMILIES = ("noise", "blur", "digital", "geometric")  # the suite's order; other families follow, sorted


def compression_rows(inputs: Inputs) -> list[dict[str, Any]]:
    """One row per config in the study's order; dense has no PIEs by definition (fraction 0)."""
    rows = []
    for name in inputs.study.configs:
        stats = inputs.stats_of(name)
        pie = inputs.pie_of(name)
        members = inputs.predict[name]["members"]
        rows.append(
            {
                "config": name,
                "kind": inputs.study.kinds[name],
                "size_ratio": member_mean(members, "size_ratio"),
                "sparsity": member_mean(members, "sparsity"),
                "top1": stats.get("top1"),
                "top1_low": stats.get("top1_low"),
                "top1_high": stats.get("top1_high"),
                "pie_fraction": 0.0 if name == DENSE else (pie or {}).get("pie_fraction"),
                "churn": stats.get("churn"),
            }
        )
    return rows


def all_robustness_rows(inputs: Inputs) -> list[dict[str, Any]]:
    """:func:`robustness_rows` of dense (from the ``dense_*`` entries) and of each compressed config with
    a summary, stacked in the study's order."""
    tables = {}
    dense = inputs.dense_robustness()
    if dense is not None:
        tables[DENSE] = robustness_rows(dense, "dense_top1")
    for name in inputs.study.compressed:
        summary = inputs.robustness.get(name)
        if summary is not None:
            tables[name] = robustness_rows(summary)
    return stacked(tables)


def all_cka_rows(inputs: Inputs) -> list[dict[str, Any]]:
    """:func:`cka_rows` of each config with a summary, stacked in the study's order. Dense is included
    (its cells are its members: CKA 1 at every layer) so that every plot lists the same configs in the
    same order, and a config has the same colour in each."""
    summaries = {name: inputs.representations.get(name) for name in inputs.study.configs}
    return stacked({name: cka_rows(s) for name, s in summaries.items() if s is not None})


def stacked(tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One long table from config -> its rows: each row with the config's name in front, in order."""
    return [{CONFIG: name, **row} for name, rows in tables.items() for row in rows]


def families_of(summary: Mapping[str, Any]) -> list[str]:
    present = {c["family"] for c in summary["per_corruption"].values()}
    return [f for f in FAMILIES if f in present] + sorted(present - set(FAMILIES))


def severities_of(summary: Mapping[str, Any]) -> list[int]:
    """0 (the clean view) and every severity of the summary's corruptions, ascending."""
    found = {int(s) for c in summary["per_corruption"].values() for s in c["severities"]}
    return [0, *sorted(found)]


def curves(summary: Mapping[str, Any], key: str = "top1") -> dict[str, list[float | None]]:
    """Corruption -> ``key`` (top1 or dense_top1) at each of :func:`severities_of`, the clean view first."""
    severities = severities_of(summary)
    clean = finite(summary["clean"].get(key))
    out = {}
    for name, per in summary["per_corruption"].items():
        at = dict(zip(per["severities"], per[key], strict=True))
        out[name] = [clean, *(finite(at.get(s)) for s in severities[1:])]
    return out


def robustness_rows(summary: Mapping[str, Any], key: str = "top1") -> list[dict[str, Any]]:
    """Per severity: mean ``key`` over each family's corruptions, then over all corruptions; the first
    row (severity 0) is the clean view in every column."""
    families = families_of(summary)
    per = summary["per_corruption"]
    by_name = curves(summary, key)
    clean = finite(summary["clean"].get(key))
    rows: list[dict[str, Any]] = [{"severity": 0} | dict.fromkeys([*families, "mean"], clean)]
    for i, severity in enumerate(severities_of(summary)[1:], start=1):
        row: dict[str, Any] = {"severity": severity}
        for family in families:
            row[family] = _mean(by_name[c][i] for c in per if per[c]["family"] == family)
        row["mean"] = _mean(values[i] for values in by_name.values())
        rows.append(row)
    return rows


def cka_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "layer_index": i,
            "layer": layer["layer"],
            "linear_cka": layer.get("linear_cka"),
            "floor_linear_cka": layer.get("floor_linear_cka"),
        }
        for i, layer in enumerate(summary["layers"])
    ]


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None
