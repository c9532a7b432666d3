"""The activation maximization figure (SPEC section 11): the dense and the compressed member's images of the
same units, side by side."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 100


def draw_activation_max(
    pictures: tuple[np.ndarray, np.ndarray], act: Mapping[str, Any], config: str
) -> Figure:
    """Two rows (``pictures``: the dense, the compressed images (U, C, H, W) in [0, 1]) of one image per
    unit: gray for one channel, RGB for three, else the channel mean in gray; titled with the unit and
    the image's final activation on its own member (``act``: the summary's activation_max entry)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    units = act["units"]
    fig = Figure(figsize=(1.7 * len(units) + 0.6, 4.4), dpi=DPI)
    axes = fig.subplots(2, len(units), squeeze=False)
    labels = (f"dense seed {act['seed']}", f"{config} seed {act['seed']}")
    for row, (images, who, label) in enumerate(zip(pictures, ("dense", "compressed"), labels, strict=True)):
        for col, unit in enumerate(units):
            ax = axes[row, col]
            image = images[col]  # (C, H, W) in [0, 1]
            if image.shape[0] == 3:
                ax.imshow(image.transpose(1, 2, 0), vmin=0.0, vmax=1.0)
            else:
                ax.imshow(image.mean(axis=0), cmap="gray", vmin=0.0, vmax=1.0)
            value = act[f"{who}_on_{who}"][col]
            ax.set_title(f"unit {unit}: {value:.3g}" if value is not None else f"unit {unit}", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel(label, fontsize=8)
    fig.suptitle(f"{act['layer']}: activation maximization", fontsize=9)
    fig.tight_layout()
    return fig
