"""Reading the next of a sequence of large inputs while the current one is worked on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def read_ahead(items: Iterable[T]) -> Iterator[T]:
    """The items of ``items`` in order, each next one read (hashed, loaded) on a thread while the caller
    works on the current one; an error reading an item is raised where that item would be."""
    from concurrent.futures import ThreadPoolExecutor

    iterator, end = iter(items), object()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(next, iterator, end)
        while (item := future.result()) is not end:
            future = pool.submit(next, iterator, end)
            yield item  # type: ignore[misc]
