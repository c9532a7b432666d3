"""The saliency examples figure (SPEC section 9): a few sample images with the dense and the compressed
member's maps and their difference, side by side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from pipeline.config import SaliencyParams

PANEL_INCHES = 2.0
TITLE_INCHES = 0.5
DPI = 100


def _panels(
    image: np.ndarray, dense: np.ndarray, comp: np.ndarray
) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """One row's four panels with their colour scales: ``image`` (C, H, W) uint8, the maps (H, W)."""
    pixels = image.transpose(1, 2, 0)  # (H, W, C)
    return [
        (pixels[..., 0] if pixels.shape[-1] == 1 else pixels, {"cmap": "gray", "vmin": 0, "vmax": 255}),
        (dense, {"cmap": "inferno", "vmin": 0.0, "vmax": 1.0}),
        (comp, {"cmap": "inferno", "vmin": 0.0, "vmax": 1.0}),
        (comp - dense, {"cmap": "RdBu_r", "vmin": -1.0, "vmax": 1.0}),
    ]


def draw_examples(
    images: np.ndarray,
    dense: np.ndarray,
    comp: np.ndarray,
    row_labels: Sequence[str],
    titles: tuple[str, str],
    suptitle: str,
) -> Figure:
    """One row per image: the image, the dense and the compressed map (0..1, same colormap) and
    compressed - dense (-1..1, diverging).  ``images``: (E, C, H, W) uint8; maps (E, H, W); ``titles``:
    the two maps' column titles.  A Figure at ``DPI``, ``4 x PANEL_INCHES`` wide."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = images.shape[0]
    fig = Figure(figsize=(4 * PANEL_INCHES, rows * PANEL_INCHES + TITLE_INCHES), dpi=DPI)
    axes = fig.subplots(rows, 4, squeeze=False)
    column_titles = ("image", *titles, "compressed − dense")
    for r in range(rows):
        for c, (panel, style) in enumerate(_panels(images[r], dense[r], comp[r])):
            ax = axes[r, c]
            ax.imshow(panel, interpolation="nearest", **style)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(column_titles[c], fontsize=9)
        axes[r, 0].set_ylabel(row_labels[r], fontsize=9)
    fig.suptitle(suptitle, fontsize=9)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.01, top=1 - TITLE_INCHES / fig.get_figheight() - 0.03)
    return fig


def config_examples(
    cfg: SaliencyParams,
    sample_images: np.ndarray,
    dense: np.ndarray,
    comp: np.ndarray,
    row_labels: Sequence[str],
    config: str,
    seed: int,
) -> Figure:
    """The first ``saliency.examples`` sample images (E, C, H, W) uint8 of seed ``seed``: its dense
    member's maps (N, H, W) against the ``config`` cell's, titled with both and the saliency method."""
    shown, method = slice(0, cfg.examples), cfg.method
    return draw_examples(
        sample_images[shown],
        dense[shown],
        comp[shown],
        row_labels[shown],
        (f"dense seed {seed}", config),
        f"{method} saliency of the true label: dense vs {config}, seed {seed}",
    )
