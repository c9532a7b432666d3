"""Render the HTML report in headless Chromium and save what a reader sees as PNG screenshots.

Run by hand after ``dvc repro`` (not in CI): it needs Debian's ``chromium`` package
(``sudo apt-get install chromium``) and writes, by default, ``reports/screenshots/page.png`` (the whole
page, ``--width`` pixels wide) and ``part_NN.png`` slices of it, one screen (``--screen`` pixels) each,
to look through::

    python scripts/screenshot.py                       # reports/index.html -> reports/screenshots/
    python scripts/screenshot.py --page other.html --out /tmp/shots --width 1024

Chromium only captures its window, so the window is made ``--height`` pixels tall (enough for the default
study's page); the blank bottom is cropped off before slicing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    sys.exit(f"error: no Chromium found (tried {', '.join(BROWSERS)}); install Debian's package: chromium")


def capture(browser: str, page: Path, out: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",  # root in a container has no user namespace for the sandbox
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            page.resolve().as_uri(),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0 or not out.is_file():
        sys.exit(f"error: chromium failed ({result.returncode}): {result.stderr.strip()[-500:]}")


def crop_blank_bottom(image: Image.Image) -> Image.Image:
    """Drop the uniform rows below the page's content (the window is taller than the page)."""
    rgb = image.convert("RGB")
    background = Image.new("RGB", rgb.size, rgb.getpixel((rgb.width - 1, rgb.height - 1)))
    box = ImageChops.difference(rgb, background).getbbox()
    return rgb if box is None else rgb.crop((0, 0, rgb.width, min(rgb.height, box[3] + 16)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--page", type=Path, default=Path("reports/index.html"), help="the HTML page")
    p.add_argument("--out", type=Path, default=Path("reports/screenshots"), help="output folder")
    p.add_argument("--width", type=int, default=1280, help="window width in pixels (default 1280)")
    p.add_argument("--height", type=int, default=30000, help="window height in pixels (default 30000)")
    p.add_argument("--screen", type=int, default=1400, help="height of each slice (default 1400)")
    args = p.parse_args()
    if not args.page.is_file():
        sys.exit(f"error: {args.page}: no such page; run `dvc repro` first")
    args.out.mkdir(parents=True, exist_ok=True)
    whole = args.out / "page.png"
    capture(find_browser(), args.page, whole, args.width, args.height)
    page = crop_blank_bottom(Image.open(whole))
    page.save(whole)
    for old in args.out.glob("part_*.png"):
        old.unlink()
    parts = range(0, page.height, args.screen)
    for i, top in enumerate(parts, start=1):
        part = page.crop((0, top, page.width, min(page.height, top + args.screen)))
        part.save(args.out / f"part_{i:02d}.png")
    print(f"{whole}: {page.width}×{page.height} px, {len(parts)} slices of {args.screen} px in {args.out}")


if __name__ == "__main__":
    main()
