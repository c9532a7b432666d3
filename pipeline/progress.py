"""Progress for long loops: a tqdm bar in a terminal, nothing in a log (the caller logs per epoch)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger("pipeline")


def interactive() -> bool:
    return sys.stderr.isatty()


def progress(items: Iterable[T], total: int | None = None, desc: str = "") -> Iterator[T]:
    """``items`` wrapped in a tqdm bar when stderr is a terminal, unchanged otherwise."""
    if not interactive():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, leave=False, dynamic_ncols=True)


def setup_logging() -> None:
    """Plain timestamped lines on stderr, the same in a terminal and in CI logs."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
