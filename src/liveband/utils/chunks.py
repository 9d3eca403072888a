"""Cutting a signal into pieces of cycling sizes, as a stream would deliver it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def cycled_slices(length: int, sizes: Sequence[int]) -> Iterator[slice]:
    """Slices covering ``range(length)`` in pieces of ``sizes[0], sizes[1], ...`` (cycled)."""
    start, i = 0, 0
    while start < length:
        n = sizes[i % len(sizes)]
        yield slice(start, min(start + n, length))
        start += n
        i += 1
