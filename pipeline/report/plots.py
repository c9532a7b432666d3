"""Rows of the small plot tables that ``dvc plots show/diff`` draws (SPEC section 12; their files and
columns: pipeline/io/report.py).

compression.csv         one row per config: kind, size ratio, sparsity, top-1 with its interval, PIE
                        fraction, churn
robustness/<config>.csv top-1 against severity (0 = clean): the mean over each corruption family's
                        corruptions, and over all corruptions; dense from the dense population's numbers
cka/<config>.csv        linear CKA with the dense member per layer, beside the dense-vs-dense floor
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from typing import Any

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
