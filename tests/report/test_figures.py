"""Figure functions on tiny plain data: each gives a PNG, the heatmaps plot what they are given on the
limits they promise, and missing values do not break them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.text import Annotation

from pipeline.report import figures

PNG = b"\x89PNG\r\n\x1a\n"
CLASSES = ["a", "b", "c"]


def plotted(image: AxesImage) -> np.ma.MaskedArray:
    array = image.get_array()
    assert array is not None
    return np.ma.asarray(array)


def saved(fig: Figure, path: Path) -> bytes:
    figures.save_png(fig, path)
    return path.read_bytes()


def points() -> list[figures.Point]:
    return [
        figures.Point("dense", "dense", 1.0, 0.9, 0.88, 0.92, [0.89, 0.91], 0.0),
        figures.Point("magnitude_90", "pruning", 0.14, 0.8, 0.7, 0.85, [0.75, None], 0.1),
        figures.Point("random_90", "random control", 0.14, None, None, None, [], None),
        figures.Point("int8", "quantization", 0.25, 0.9, None, None, [0.9], 0.01),
        figures.Point("no_size", "both", None, 0.5, 0.4, 0.6, [0.5], 0.2),
    ]


def test_accuracy_figure_is_a_png_without_software_metadata(tmp_path: Path) -> None:
    data = saved(figures.accuracy_figure(points()), tmp_path / "a.png")
    assert data.startswith(PNG) and b"Software" not in data and b"matplotlib" not in data
    assert saved(figures.accuracy_figure(points()), tmp_path / "b.png") == data  # same input, same bytes


def test_accuracy_figure_uses_a_log_size_axis_and_labels_every_placed_config() -> None:
    fig = figures.accuracy_figure(points())
    top, pie = fig.axes[:2]
    assert top.get_xscale() == "log" and pie.get_xscale() == "log"
    labels = {t.get_text() for t in top.texts}
    assert labels == {"dense", "magnitude_90", "int8"}  # no top-1 or no size: nothing to place


def test_near_coincident_labels_do_not_overlap() -> None:
    same = [figures.Point(f"config_{i}", "pruning", 0.25, 0.9, None, None, [], 0.0) for i in range(4)]
    fig = figures.accuracy_figure(same)
    offsets = [t.xyann for t in fig.axes[0].texts if isinstance(t, Annotation)]
    assert len(set(offsets)) == 4


def test_per_class_heatmap_plots_the_change_on_symmetric_limits(tmp_path: Path) -> None:
    change = np.array([[-0.2, 0.05, np.nan], [0.0, 0.1, -0.01]])
    impacted = np.array([[True, False, False], [False, True, False]])
    fdr = np.array([[True, False, False], [False, False, False]])
    fig = figures.per_class_figure(change, impacted, fdr, ["p", "q"], CLASSES)
    image = fig.axes[0].images[0]
    np.testing.assert_array_equal(np.ma.filled(plotted(image), np.nan), change)
    assert image.get_clim() == (-0.2, 0.2)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["-20.0**", "+5.0", "n/a", "+0.0", "+10.0*", "-1.0"]
    assert saved(fig, tmp_path / "p.png").startswith(PNG)


def test_confusion_panels_share_one_symmetric_scale(tmp_path: Path) -> None:
    diffs = {"x": np.array([[-0.3, 0.1, 0.0], [0.0, 0.0, 0.05], [0.0] * 3]), "y": np.full((3, 3), 0.02)}
    fig = figures.confusion_figure(diffs, CLASSES, columns=4)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2
    for image, diff in zip(images, diffs.values(), strict=True):
        np.testing.assert_array_equal(plotted(image), diff)
        assert image.get_clim() == (-0.3, 0.3)
        assert image.get_cmap().name == "RdBu_r"
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["x", "y"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == CLASSES
    assert saved(fig, tmp_path / "c.png").startswith(PNG)


def test_symmetric_limit_ignores_missing_values() -> None:
    assert figures.symmetric_limit(np.array([np.nan, -0.5]), np.array([0.25])) == 0.5
    assert figures.symmetric_limit(np.zeros(2), np.array([np.nan])) > 0  # a flat map still has a scale


def test_overlap_heatmap_masks_missing_pairs(tmp_path: Path) -> None:
    jaccard = np.array([[1.0, 0.25], [0.25, np.nan]])
    fig = figures.overlap_figure(jaccard, ["p", "q"])
    image = fig.axes[0].images[0]
    assert image.get_clim() == (0.0, 1.0)
    assert bool(np.ma.getmaskarray(plotted(image))[1, 1]) and plotted(image)[0, 1] == 0.25
    assert [t.get_text() for t in fig.axes[0].texts] == ["1.00", "0.25", "0.25", "n/a"]
    assert saved(fig, tmp_path / "o.png").startswith(PNG)


def test_robustness_panels_one_per_corruption_with_dense_in_black(tmp_path: Path) -> None:
    curves: dict[str, dict[str, list[float | None]]] = {
        "dense": {"noise": [0.9, 0.8, 0.6], "blur": [0.9, 0.7, None]},
        "p": {"noise": [0.8, 0.7, 0.5], "blur": [0.8, 0.6, 0.4]},
    }
    colours = figures.config_colours(["dense", "p"])
    fig = figures.robustness_figure([0, 1, 5], curves, colours)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.lines]
    assert [ax.get_title() for ax in panels] == ["noise", "blur"]
    dense = panels[1].lines[0]
    assert dense.get_color() == "black" and np.asarray(dense.get_xdata()).tolist() == [0, 1, 5]
    assert math.isnan(np.asarray(dense.get_ydata())[2])
    assert saved(fig, tmp_path / "r.png").startswith(PNG)


def test_cka_figure_draws_the_floor_dashed_black(tmp_path: Path) -> None:
    colours = figures.config_colours(["dense", "p", "q"])
    fig = figures.cka_figure(["conv", "fc"], {"p": [0.9, 0.8], "q": [None, 0.95]}, [0.97, 0.9], colours)
    floor = fig.axes[0].lines[-1]
    assert floor.get_linestyle() == "--" and floor.get_color() == "black"
    assert np.asarray(floor.get_ydata()).tolist() == [0.97, 0.9]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["conv", "fc"]
    assert saved(fig, tmp_path / "k.png").startswith(PNG)


@pytest.mark.parametrize("n", [1, 12, 40])
def test_config_colours_are_fixed_and_dense_is_black(n: int) -> None:
    names = ["dense", *(f"c{i}" for i in range(n))]
    colours = figures.config_colours(names)
    assert colours["dense"] == "black" and list(colours) == names
    assert len(set(list(colours.values())[1 : min(n, 20) + 1])) == min(n, 20)  # distinct up to 20


def test_per_class_colour_limit_leaves_out_the_random_control() -> None:
    from pipeline.report.write import per_class_limit

    change = np.array([[-0.05, 0.01], [-0.9, 0.2], [np.nan, 0.03]])
    assert per_class_limit(change, ["pruning", "random control", "quantization"]) == 0.05
    assert per_class_limit(change[1:2], ["random control"]) is None  # nothing else: the overall largest
    fig = figures.per_class_figure(change, change < 0, change < -0.5, ["a", "b", "c"], ["x", "y"], 0.05)
    assert fig.axes[0].images[0].get_clim() == (-0.05, 0.05)


def test_colour_bars_read_in_percentage_points() -> None:
    assert [figures.PP(v, 0) for v in (0.1, -0.005, 0.0, 0.25)] == ["+10", "−0.5", "0", "+25"]
