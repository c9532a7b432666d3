"""What the representations stages write from the rows of pipeline.representations.compare: the noise
floor's means per layer (reference) and a config's summary (SPEC section 11)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pipeline.numbers import clean, fmt

FLATTEN = "per example: C x H x W in C order"
MEANS = ("linear_cka", "debiased_cka", "svcca", "svcca_dims_dense", "svcca_dims_compressed")
FLOOR_MEANS = ("linear_cka", "debiased_cka", "svcca")

Rows = Sequence[Mapping[str, Any]]


def mean_of(rows: Rows, key: str) -> float | None:
    """Plain mean of ``key`` over ``rows`` (a NaN anywhere gives None, as does no row at all)."""
    return clean(float(np.mean([r[key] for r in rows]))) if rows else None


def floor_means(layers: Sequence[str], floor: Rows) -> dict[str, dict[str, float | None]]:
    """Per layer (in ``layers`` order): ``floor_<similarity>``, its mean over the pairs of dense seeds
    (None with one seed)."""
    means = {}
    for layer in layers:
        pairs = [r for r in floor if r["layer"] == layer]
        means[layer] = {f"floor_{key}": mean_of(pairs, key) for key in FLOOR_MEANS}
    return means


def build_summary(
    config: str,
    sample_size: int,
    rows: Rows,
    floor: Mapping[str, Mapping[str, float | None]],
    act_max: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """summary.json: per layer (in row order) the means over seeds of the similarities and the SVCCA
    dimensions, and the noise floor's (``floor``: :func:`floor_means`); ``cka_last``, the linear CKA of
    the last layer (the logits); the activation maximization's entry."""
    layers = list(dict.fromkeys(r["layer"] for r in rows))  # in order
    entries = []
    for name in layers:
        mine = [r for r in rows if r["layer"] == name]
        entries.append(
            {"layer": name, "units": mine[0]["units"]}
            | {key: mean_of(mine, key) for key in MEANS}
            | dict(floor[name])
        )
    return {
        "config": config,
        "sample_size": sample_size,
        "members": len({r["seed"] for r in rows}),
        "flatten": FLATTEN,
        "layers": entries,
        "cka_last": entries[-1]["linear_cka"],
        "activation_max": None if act_max is None else dict(act_max),
    }


def config_line(config: str, summary: Mapping[str, Any]) -> str:
    """The config's closing log line: the logits' linear CKA against the dense floor."""
    last = summary["layers"][-1]
    return (
        f"{config}: {summary['members']} seeds, {summary['sample_size']} images, logits linear CKA "
        f"{fmt(summary['cka_last'])} (dense floor {fmt(last['floor_linear_cka'])})"
    )
