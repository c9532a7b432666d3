"""Reading ahead: order, the next item read early, errors raised in place."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


def test_read_ahead_yields_in_order_reads_the_next_early_and_raises_in_place() -> None:
    """The next item is read on a thread while the caller holds the current one; an error surfaces
    where its item would have been, after the items before it."""
    import threading

    from pipeline.io.ahead import read_ahead

    started: list[int] = []
    ready = threading.Event()

    def items() -> Iterator[int]:
        for i in range(3):
            started.append(i)
            if i == 1:
                ready.set()
            yield i
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for item in read_ahead(items()):
            if item == 0:
                assert ready.wait(5)  # item 1 is read while item 0 is being worked on
            got.append(item)
    assert got == [0, 1, 2] and started == [0, 1, 2]
