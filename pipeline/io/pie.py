"""The ``pie`` stage's output folder, for its writer and every reader (SPEC section 8)::

data/pie/summary.json                per config: PIE count and fraction, ties, top-1 on PIEs and on
                                     the rest, PIEs each modal label gets right
data/pie/per_class.csv               per config and true class: examples, PIEs, rate, share
data/pie/overlap.csv                 every pair of configs: PIE set sizes, intersection, Jaccard
data/pie/<config>/pies.csv           every PIE of the config, most disputed first
data/pie/<config>/gallery_NNN.png    pages of the most disputed PIEs, captioned
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.io.files import atomic_path, read_json, write_json
from pipeline.io.tables import read_table, write_table

if TYPE_CHECKING:
    from PIL.Image import Image

WRITER = "pie"
SUMMARY = "summary.json"
PER_CLASS = "per_class.csv"
OVERLAP = "overlap.csv"

PIE_COLUMNS = [
    *("example_id", "label", "label_name", "dense_modal", "dense_modal_name", "dense_modal_votes"),
    *("compressed_modal", "compressed_modal_name", "compressed_modal_votes", "members"),
    *("dense_votes", "compressed_votes", "score"),
    *("label_issue", "label_quality", "agreement", "margin", "entropy", "atypicality", "loo_frequency"),
]
CLASS_COLUMNS = ["config", "class", "class_name", "examples", "pies", "pie_rate", "pie_share"]
OVERLAP_COLUMNS = ["config_a", "config_b", "pies_a", "pies_b", "intersection", "jaccard"]
TEXT = frozenset({"config", "class_name", "config_a", "config_b"})  # read as strings


@dataclass(frozen=True)
class PieFolder:
    """``root``: the stage's output folder (``data/pie``)."""

    root: Path

    def pies(self, config: str) -> Path:
        return self.root / config / "pies.csv"

    def gallery_page(self, config: str, page: int) -> Path:
        """Page ``page`` (from 1) of the config's gallery."""
        return self.root / config / f"gallery_{page:03d}.png"

    def galleries(self, config: str) -> list[Path]:
        """The gallery pages written for ``config``, in order (none for a config without PIEs)."""
        return sorted((self.root / config).glob("gallery_*.png"))


def write_config(root: Path, config: str, rows: Sequence[Mapping[str, Any]], pages: Sequence[Image]) -> None:
    """A config's ``pies.csv`` and its gallery pages."""
    folder = PieFolder(Path(root))
    write_table(folder.pies(config), rows, PIE_COLUMNS)
    for page, image in enumerate(pages, start=1):
        with atomic_path(folder.gallery_page(config, page)) as tmp:
            image.save(tmp, format="PNG", optimize=False)


def write_study(
    root: Path,
    summary: Mapping[str, Any],
    class_rows: Sequence[Mapping[str, Any]],
    overlap_rows: Sequence[Mapping[str, Any]],
) -> None:
    """``summary.json``, ``per_class.csv`` and ``overlap.csv``."""
    write_json(Path(root) / SUMMARY, summary)
    write_table(Path(root) / PER_CLASS, class_rows, CLASS_COLUMNS)
    write_table(Path(root) / OVERLAP, overlap_rows, OVERLAP_COLUMNS)


def read_summary(root: Path) -> Any:
    return read_json(Path(root) / SUMMARY, WRITER)


def read_overlap(root: Path) -> list[dict[str, Any]]:
    return read_table(Path(root) / OVERLAP, TEXT, WRITER)
