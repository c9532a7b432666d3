from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.analysis.gallery import TEXT, Caption, render_grid, render_pages
from pipeline.io.pie import PieFolder, write_config


def captions(n: int) -> list[Caption]:
    return [
        Caption(((f"#{i} a label long enough to be cut short", TEXT), ("D x 5/5", (0, 0, 0))))
        for i in range(n)
    ]


def test_grid_layout_scales_images_and_leaves_room_for_captions() -> None:
    images = np.full((5, 1, 28, 28), 200, np.uint8)
    grid = render_grid(images, captions(5), columns=3, cell=56)
    # 3 columns of (56 + 6) plus 6; 2 rows of (56 + 6 + 2 lines of 14) plus 6.
    assert grid.size == (3 * 62 + 6, 2 * (62 + 28) + 6)
    pixels = np.asarray(grid)
    assert (pixels[6 : 6 + 56, 6 : 6 + 56] == 200).all()  # first image, nearest upscaling x2


def test_rgb_images_keep_their_colour() -> None:
    images = np.zeros((1, 3, 8, 8), np.uint8)
    images[0, 0] = 255
    grid = render_grid(images, captions(1), columns=1, cell=16)
    assert tuple(np.asarray(grid)[10, 10]) == (255, 0, 0)


def test_pages_are_written_and_byte_identical(tmp_path: Path) -> None:
    images = np.random.default_rng(0).integers(0, 255, (10, 1, 16, 16), dtype=np.uint8)
    for root in ("a", "b"):
        pages = render_pages(images, captions(10), per_page=4, columns=2, cell=32, title="t")
        write_config(tmp_path / root, "cfg", [], pages)
    first, second = PieFolder(tmp_path / "a").galleries("cfg"), PieFolder(tmp_path / "b").galleries("cfg")
    assert [p.name for p in first] == ["gallery_001.png", "gallery_002.png", "gallery_003.png"]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
    assert Image.open(first[0]).format == "PNG"
