"""Image grids (PNG) with captions written under each image: the browsable PIE sets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage
    from PIL.ImageFont import FreeTypeFont, ImageFont

BACKGROUND = (255, 255, 255)
TEXT = (20, 20, 20)
RIGHT = (0, 110, 40)
WRONG = (190, 20, 20)


@dataclass(frozen=True)
class Caption:
    """Lines under one image; each line is (text, colour)."""

    lines: tuple[tuple[str, tuple[int, int, int]], ...]


def _to_pil(image: np.ndarray, side: int) -> PILImage:
    """(C, H, W) uint8 -> an RGB PIL image whose longer side is ``side`` (nearest: pixels stay visible)."""
    from PIL import Image

    chw = image if image.shape[0] in (1, 3) else image[:1]
    hwc = np.ascontiguousarray(np.transpose(chw, (1, 2, 0)))
    pil = (
        Image.fromarray(hwc[:, :, 0], "L").convert("RGB")
        if hwc.shape[2] == 1
        else Image.fromarray(hwc, "RGB")
    )
    h, w = hwc.shape[:2]
    scale = side / max(h, w)
    return pil.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.NEAREST)


def _fit(text: str, width: int, font: FreeTypeFont | ImageFont) -> str:
    """``text`` cut with an ellipsis to fit ``width`` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def render_grid(
    images: np.ndarray,
    captions: Sequence[Caption],
    columns: int,
    cell: int,
    title: str = "",
    font_size: int = 11,
) -> PILImage:
    """One PIL image: an optional ``title`` line, then ``images`` (n, C, H, W) uint8 in rows of
    ``columns``, each scaled to ``cell`` pixels with its caption lines below."""
    from PIL import Image, ImageDraw, ImageFont

    if len(images) != len(captions):
        raise ValueError(f"{len(images)} images but {len(captions)} captions")
    font = ImageFont.load_default(size=font_size)
    line_height = font_size + 3
    n_lines = max((len(c.lines) for c in captions), default=0)
    pad = 6
    cell_w, cell_h = cell + pad, cell + pad + n_lines * line_height
    rows = max(1, -(-len(images) // columns))
    top = line_height + pad if title else 0
    canvas = Image.new("RGB", (columns * cell_w + pad, top + rows * cell_h + pad), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((pad, pad), _fit(title, columns * cell_w - pad, font), fill=TEXT, font=font)
    for i, (image, caption) in enumerate(zip(images, captions, strict=True)):
        x = pad + (i % columns) * cell_w
        y = top + pad + (i // columns) * cell_h
        tile = _to_pil(image, cell)
        canvas.paste(tile, (x, y))
        for j, (text, colour) in enumerate(caption.lines):
            draw.text((x, y + cell + 2 + j * line_height), _fit(text, cell, font), fill=colour, font=font)
    return canvas


def render_pages(
    images: np.ndarray,
    captions: Sequence[Caption],
    per_page: int,
    columns: int,
    cell: int,
    title: str = "",
) -> list[PILImage]:
    """Grids of ``per_page`` images each, with ``title`` and the page number on top (the caller saves
    them: :func:`pipeline.io.pie.write_config`)."""
    pages = -(-len(images) // per_page)
    out = []
    for page, start in enumerate(range(0, len(images), per_page), start=1):
        heading = f"{title} (page {page} of {pages})" if title else ""
        out.append(
            render_grid(
                images[start : start + per_page], captions[start : start + per_page], columns, cell, heading
            )
        )
    return out
