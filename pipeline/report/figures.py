"""The report's figures: pure functions from plain numbers to a matplotlib Figure (Agg, no pyplot state).

Missing values are None or NaN and are left out of a plot (a gap in a line, an empty heatmap cell marked
n/a).  :func:`save_png` writes a figure without the software version, so the same inputs give the same
bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import SymLogNorm, to_hex
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from pipeline.config import DENSE

matplotlib.use("Agg")  # no display; figures are drawn by Figure.savefig, without pyplot's global state

DPI = 100
KIND_COLOURS = {
    "dense": "black",
    "pruning": "tab:blue",
    "quantization": "tab:orange",
    "both": "tab:purple",
    "random control": "tab:gray",
}
TICK_LABELS_MAX = 24  # more classes than this: no class names on the confusion panels' axes
ANNOTATE_MAX = 1500  # more heatmap cells than this: no numbers written in the cells
CONFUSION_LINEAR = 0.01  # the confusion colour scale is linear within +-1 point, logarithmic beyond
PP = FuncFormatter(
    lambda value, _: f"{100 * value:+.3g}".replace("-", "−") if value else "0"
)  # fraction -> pp


def save_png(fig: Figure, path: Path) -> None:
    """``fig`` as a PNG at :data:`DPI`, without the Software entry (the only varying metadata)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})


def config_colours(configs: Sequence[str]) -> dict[str, str]:
    """A fixed colour per config in its order: dense black, the others along tab10, then tab20's light
    shades."""
    tab20 = matplotlib.colormaps["tab20"]
    palette = [f"C{i}" for i in range(10)] + [to_hex(tab20(i)) for i in range(1, 20, 2)]
    others = [name for name in configs if name != DENSE]
    return {DENSE: "black"} | {name: palette[i % len(palette)] for i, name in enumerate(others)}


def _array(values: Sequence[float | None] | np.ndarray) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


# --------------------------------------------------------------------------- accuracy against compression


@dataclass(frozen=True)
class Point:
    """One config on the compression axis; fractions in [0, 1]."""

    config: str
    kind: str
    size_ratio: float | None
    top1: float | None
    top1_low: float | None
    top1_high: float | None
    members: Sequence[float | None]  # each member's top-1
    pie_fraction: float | None


def accuracy_figure(points: Sequence[Point]) -> Figure:
    """Top-1 (left) and PIE fraction (right) against the size ratio on a log axis: population interval
    as error bars, members as dots, one colour per kind of compression, each config labelled."""
    fig = Figure(figsize=(12, 4.6), layout="constrained")
    top, pie = fig.subplots(1, 2)
    shown = [p for p in points if p.size_ratio is not None and p.size_ratio > 0]
    for p in shown:
        colour = KIND_COLOURS.get(p.kind, "tab:red")
        low, high = p.top1_low, p.top1_high
        if p.top1 is not None and low is not None and high is not None:
            top.errorbar(
                [p.size_ratio],
                [p.top1],
                yerr=[[p.top1 - low], [high - p.top1]],
                fmt="none",
                ecolor=colour,
                capsize=3,
                lw=1,
            )
        members = _array(p.members)
        top.scatter(np.full(members.shape, p.size_ratio), members, s=9, color=colour, alpha=0.45, lw=0)
        top.scatter([p.size_ratio], [_nan(p.top1)], s=34, color=colour, edgecolor="white", zorder=3)
        pie.scatter([p.size_ratio], [_nan(p.pie_fraction)], s=34, color=colour, edgecolor="white", zorder=3)
    dense = next((p for p in shown if p.kind == "dense" and p.top1 is not None), None)
    if dense is not None:
        top.axhline(dense.top1, color="black", lw=0.8, ls=":")
    for ax, ylabel in ((top, "top-1 accuracy"), (pie, "PIE fraction of the test set")):
        if shown:
            ax.set_xscale("log")
        ax.set_xlabel("size ratio (compressed / dense storage, log scale)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
    _label(top, [(p.config, p.size_ratio, p.top1) for p in shown])
    _label(pie, [(p.config, p.size_ratio, p.pie_fraction) for p in shown])
    kinds = list(dict.fromkeys(p.kind for p in shown))
    handles = [top.scatter([], [], s=34, color=KIND_COLOURS.get(k, "tab:red"), label=k) for k in kinds]
    top.legend(handles=handles, fontsize=8, loc="lower right")
    return fig


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


# Label positions tried in turn, in points from the point: right, left, then further up or down.
_OFFSETS = [(dx, dy) for dy in (2, -10, 11, -19, 20, -28) for dx in (5, -5)]


def _label(ax: Axes, labels: Sequence[tuple[str, float | None, float | None]], size: float = 7.0) -> None:
    """Config names beside their points, each at the first offset where its (estimated) box overlaps
    no name placed before it: near-coincident configs stay readable."""
    ax.autoscale_view()
    scale = ax.figure.dpi / 72  # points -> pixels
    placed: list[tuple[float, float, float, float]] = []
    for name, x, y in sorted(labels, key=lambda t: (t[1] or 0.0, t[2] or 0.0, t[0])):
        if x is None or y is None:
            continue
        px, py = ax.transData.transform((x, y))
        width, height = 0.6 * size * len(name) * scale, 1.2 * size * scale
        boxes = []
        for dx, dy in _OFFSETS:
            left = px + dx * scale - (width if dx < 0 else 0.0)
            boxes.append((left, py + dy * scale, left + width, py + dy * scale + height))
        free = [i for i, b in enumerate(boxes) if not any(_overlap(b, other) for other in placed)]
        i = free[0] if free else 0
        placed.append(boxes[i])
        dx, dy = _OFFSETS[i]
        ax.annotate(
            name,
            (x, y),
            xytext=(dx, dy),
            textcoords="offset points",
            fontsize=size,
            ha="right" if dx < 0 else "left",
            va="bottom",
        )


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# ---------------------------------------------------------------------------------------------- heatmaps


def symmetric_limit(*arrays: np.ndarray) -> float:
    """The largest finite absolute value over ``arrays`` (a tiny positive number when there is none)."""
    finite = [np.abs(a[np.isfinite(a)]) for a in arrays]
    top = max((float(f.max()) for f in finite if f.size), default=0.0)
    return top if top > 0 else 1e-9


def per_class_figure(
    change: np.ndarray,
    impacted: np.ndarray,
    impacted_fdr: np.ndarray,
    configs: Sequence[str],
    class_names: Sequence[str],
    limit: float | None = None,
) -> Figure:
    """Heatmap of the per-class recall change (configs x classes, compressed - dense, red = lost) on
    symmetric limits (``limit``, default the largest |change|; larger changes saturate the colour), each
    cell written in percentage points with * when the class is impacted (p <= alpha) and ** when it stays
    impacted after the FDR correction."""
    rows, cols = change.shape  # (configs, classes)
    fig = Figure(figsize=(2.6 + 0.62 * cols, 1.6 + 0.32 * rows), layout="constrained")
    ax = fig.subplots()
    limit = symmetric_limit(change) if limit is None else limit
    image = ax.imshow(np.ma.masked_invalid(change), cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    if rows * cols <= ANNOTATE_MAX:
        for (r, c), value in np.ndenumerate(change):
            mark = "**" if impacted_fdr[r, c] else "*" if impacted[r, c] else ""
            text = "n/a" if not np.isfinite(value) else f"{100 * value:+.1f}{mark}"
            strong = np.isfinite(value) and abs(value) > 0.6 * limit
            ax.text(
                c,
                r,
                text,
                ha="center",
                va="center",
                fontsize=7,
                color="white" if strong else "black",
                fontweight="bold" if mark == "**" else "normal",
            )
    _ticks(ax, class_names, configs, rotate=True)
    ax.set_xlabel("class")
    fig.colorbar(
        image, ax=ax, label="recall change, percentage points (compressed − dense)", shrink=0.9, format=PP
    )
    return fig


def confusion_figure(diffs: Mapping[str, np.ndarray], class_names: Sequence[str], columns: int = 4) -> Figure:
    """Small multiples of compressed - dense confusion rates (rows true class, columns predicted), one
    per config, on one diverging colour scale with symmetric limits shared by all panels; the scale is
    logarithmic beyond +-CONFUSION_LINEAR, so a change of a few points shows beside one of tens."""
    names = list(diffs)
    cols = max(1, min(columns, len(names)))
    rows = max(1, math.ceil(len(names) / cols))
    fig = Figure(figsize=(0.8 + 3.1 * cols, 0.9 + 3.0 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    limit = symmetric_limit(*diffs.values())
    labels = len(class_names) <= TICK_LABELS_MAX
    image = None
    for i, ax in enumerate(axes.flat):
        if i >= len(names):
            ax.set_visible(False)
            continue
        norm = SymLogNorm(CONFUSION_LINEAR, vmin=-limit, vmax=limit, base=10)
        image = ax.imshow(np.ma.masked_invalid(diffs[names[i]]), cmap="RdBu_r", norm=norm)
        ax.set_title(names[i], fontsize=9)
        r, c = divmod(i, cols)
        left, bottom = c == 0, r == rows - 1 or i + cols >= len(names)
        _ticks(ax, class_names if labels and bottom else [], class_names if labels and left else [], True)
        if left:
            ax.set_ylabel("true class", fontsize=8)
        if bottom:
            ax.set_xlabel("predicted class", fontsize=8)
    if image is not None:
        fig.colorbar(
            image, ax=axes, label="confusion rate change, percentage points (compressed − dense)", shrink=0.6
        )
        fig.axes[-1].yaxis.set_major_formatter(PP)
    return fig


def overlap_figure(jaccard: np.ndarray, configs: Sequence[str]) -> Figure:
    """Jaccard index of the PIE sets of every pair of configs (0..1); n/a where both sets are empty."""
    n = len(configs)
    fig = Figure(figsize=(2.8 + 0.55 * n, 2.0 + 0.5 * n), layout="constrained")
    ax = fig.subplots()
    # aspect auto: constrained layout clips the tick labels of an equal-aspect image with a labelled colorbar
    image = ax.imshow(np.ma.masked_invalid(jaccard), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    if n * n <= ANNOTATE_MAX:
        for (r, c), value in np.ndenumerate(jaccard):
            text = "n/a" if not np.isfinite(value) else f"{value:.2f}"
            dark = not np.isfinite(value) or value < 0.6
            ax.text(c, r, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
    _ticks(ax, configs, configs, rotate=True)
    ax.set_facecolor("0.6")
    fig.colorbar(image, ax=ax, label="Jaccard index of the PIE sets", shrink=0.9)
    return fig


def _ticks(ax: Axes, x: Sequence[str], y: Sequence[str], rotate: bool) -> None:
    ax.set_xticks(
        range(len(x)),
        list(x),
        rotation=45 if rotate else 0,
        ha="right" if rotate else "center",
        rotation_mode="anchor",
        fontsize=7,
    )
    ax.set_yticks(range(len(y)), list(y), fontsize=7)


# ------------------------------------------------------------------------------------------------ curves


def robustness_figure(
    severities: Sequence[int],
    curves: Mapping[str, Mapping[str, Sequence[float | None]]],
    colours: Mapping[str, str],
    columns: int = 4,
) -> Figure:
    """One panel per corruption: top-1 against severity (0 = clean), one line per config, dense black.
    ``curves``: config -> corruption -> top-1 at each of ``severities``."""
    corruptions = list(dict.fromkeys(c for per in curves.values() for c in per))
    cols = max(1, min(columns, len(corruptions)))
    rows = max(1, math.ceil(len(corruptions) / cols))
    fig = Figure(figsize=(2.9 * cols + 2.2, 2.3 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
    for i, ax in enumerate(axes.flat):
        if i >= len(corruptions):
            ax.set_visible(False)
            continue
        for config, per in curves.items():
            dense = config == DENSE
            ax.plot(
                severities,
                _array(per.get(corruptions[i], [None] * len(severities))),
                marker="o",
                ms=2.5,
                lw=2.0 if dense else 1.0,
                color=colours.get(config, "tab:red"),
                zorder=3 if dense else 2,
                label=config,
            )
        ax.set_title(corruptions[i], fontsize=9)
        ax.set_xticks(list(severities))
        ax.grid(True, lw=0.3, alpha=0.5)
        if i % cols == 0:
            ax.set_ylabel("top-1", fontsize=8)
        if i + cols >= len(corruptions):
            ax.set_xlabel("severity (0 = clean)", fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=8)
    return fig


def cka_figure(
    layers: Sequence[str],
    cka: Mapping[str, Sequence[float | None]],
    floor: Sequence[float | None],
    colours: Mapping[str, str],
) -> Figure:
    """Linear CKA of each config's layers with the dense ones (1 = same representation) against the
    layer, with the dense-vs-dense floor between seeds as a dashed black line."""
    fig = Figure(figsize=(9, 4.4), layout="constrained")
    ax = fig.subplots()
    x = list(range(len(layers)))
    for config, values in cka.items():
        ax.plot(
            x, _array(values), marker="o", ms=3, lw=1.2, color=colours.get(config, "tab:red"), label=config
        )
    ax.plot(x, _array(floor), color="black", ls="--", lw=1.6, label="dense vs dense (floor)")
    ax.set_xticks(x, list(layers), rotation=20, ha="right", rotation_mode="anchor", fontsize=8)
    ax.set_xlabel("layer (input → output)")
    ax.set_ylabel("linear CKA with the dense member")
    ax.grid(True, lw=0.3, alpha=0.5)
    fig.legend(loc="outside right upper", fontsize=8)
    return fig


def pie_traits_figure(
    configs: Sequence[str],
    pies: Mapping[str, Sequence[float | None]],
    rest: Mapping[str, Sequence[float | None]],
) -> Figure:
    """What PIEs are, at a glance: for each trait (a panel) and compressed config (a row), its mean over
    the config's PIEs (dark) against over the rest of the test set (light). ``pies`` and ``rest``: trait
    label -> one value per config (None: no PIEs)."""
    traits = list(pies)
    fig = Figure(figsize=(2.6 * len(traits) + 1.2, 0.9 + 0.32 * len(configs)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(traits), sharey=True))
    y = np.arange(len(configs))
    for ax, trait in zip(axes, traits, strict=True):
        ax.barh(y - 0.2, _array(pies[trait]), height=0.38, color="#b2182b", label="PIEs")
        ax.barh(y + 0.2, _array(rest[trait]), height=0.38, color="#bbbbbb", label="the rest")
        ax.set_title(trait, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, list(configs))
    axes[0].invert_yaxis()
    axes[-1].legend(fontsize=7, loc="lower right")
    return fig
