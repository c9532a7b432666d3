"""What the saliency stages write, from the measures of :func:`pipeline.saliency.metrics.compare`: the
per-config summary, its per-image rows, the noise floor's rows and the log lines (SPEC section 9).

``per_seed`` maps each seed to the measures of its compressed member against the dense member of that
seed; ``floor`` each pair of dense seeds (:func:`pipeline.analysis.floor.seed_pairs` order) to theirs.
Every measure is per image (N,), in sample order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pipeline.numbers import clean, fmt
from pipeline.saliency.metrics import METRICS, Metrics

Pair = tuple[int, int]


def mean_metrics(groups: Sequence[Metrics]) -> dict[str, float | None]:
    """Each measure's mean over all images of all ``groups`` (None when there are none); images where a
    measure is undefined (NaN: Spearman of a constant map) are left out of its mean."""
    out: dict[str, float | None] = {}
    for name in METRICS:
        values = np.concatenate([g[name] for g in groups]) if groups else np.empty(0)
        finite = values[~np.isnan(values)]
        out[name] = float(finite.mean()) if finite.size else None
    return out


def note(config: str, through: bool) -> str:
    """The summary's sentence on how the config's maps were differentiated."""
    if through:
        return (
            f"The {config} members quantize activations: their maps differentiate through the "
            "fake-quantization with the straight-through estimator (identity gradient), not through the "
            "exact quantized function."
        )
    return f"The {config} members compute in floating point: their maps are exact gradients."


def build_summary(
    config: str,
    method: str,
    sample_size: int,
    per_seed: Mapping[int, Metrics],
    floor: Mapping[Pair, Metrics],
    through: bool,
) -> dict[str, Any]:
    """summary.json: means over seeds and images, per seed, and of the noise floor (over pairs and
    images), and ``mad_over_floor`` (None without pairs or with a zero floor)."""
    overall = mean_metrics(list(per_seed.values()))
    floor_means = mean_metrics(list(floor.values()))
    ratio = None
    if overall["mad"] is not None and floor_means["mad"]:
        ratio = overall["mad"] / floor_means["mad"]
    return {
        "config": config,
        "method": method,
        "sample_size": sample_size,
        "members": len(per_seed),
        "straight_through": through,
        "note": note(config, through),
        **overall,
        "per_seed": [{"seed": seed, **mean_metrics([m])} for seed, m in per_seed.items()],
        "noise_floor": {"pairs": len(floor), **floor_means},
        "mad_over_floor": ratio,
    }


def image_rows(
    per_seed: Mapping[int, Metrics], ids: np.ndarray, labels: np.ndarray, names: Sequence[str]
) -> list[dict[str, Any]]:
    """per_image.csv: one row per seed and sample image, in sample order; NaN as None."""
    return [
        {"seed": seed, "example_id": int(ids[n]), "label": int(labels[n]), "label_name": names[labels[n]]}
        | {name: clean(metrics[name][n]) for name in METRICS}
        for seed, metrics in per_seed.items()
        for n in range(ids.size)
    ]


def floor_rows(floor: Mapping[Pair, Metrics]) -> list[dict[str, Any]]:
    """floor.csv: one row per pair of dense seeds, each measure averaged over images."""
    return [{"seed_a": a, "seed_b": b, **mean_metrics([metrics])} for (a, b), metrics in floor.items()]


def describe(means: Mapping[str, float | None]) -> str:
    """``mad 0.1234, signed ...``: measures for a log line."""
    return ", ".join(f"{name} {fmt(value)}" for name, value in means.items())


def log_lines(config: str, per_seed: Mapping[int, Metrics], summary: Mapping[str, Any]) -> list[str]:
    """One line per seed, then the config's mad against the noise floor."""
    seeds = [f"{config} seed {seed}: {describe(mean_metrics([m]))}" for seed, m in per_seed.items()]
    floor, ratio = summary["noise_floor"]["mad"], summary["mad_over_floor"]
    total = f"{config}: mad {fmt(summary['mad'])} against a noise floor of {fmt(floor)} between dense seeds"
    return [*seeds, f"{total} (ratio {fmt(ratio)})"]


def reference_line(members: int, images: int, floor: Mapping[Pair, Metrics]) -> str:
    """The dense reference's log line: its size and the noise floor's measures."""
    means = describe(mean_metrics(list(floor.values())))
    return f"dense: {members} members, {images} images; noise floor {means}"
