"""Pacing for a live session: clocks, and audio sources released at the pace of a clock.

A ``Clock`` is ``WallClock`` (real time), ``SkipClock`` (real compute time but idle waits
skipped, so a file is accounted as if paced, faster than real time) or ``FakeClock`` (virtual
time for tests). A ``PacedSource`` releases each block of an array or a file when its last sample
would have arrived live; a file is decoded, downmixed and resampled block by block
(``streaming.file_io``), so memory is fixed however long it is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from liveband.streaming.file_io import open_mix


class Clock(Protocol):
    def now(self) -> float: ...               # seconds, monotonic
    def sleep_until(self, t: float) -> None: ...


class WallClock:
    """Real time (``time.perf_counter``); sleeping is real."""

    name = "wall"

    def now(self) -> float:
        return time.perf_counter()

    def sleep_until(self, t: float) -> None:
        while (left := t - time.perf_counter()) > 0:
            time.sleep(min(left, 0.05))  # short sleeps: Ctrl-C is seen within 50 ms


class SkipClock:
    """Real compute time, but waits for input return at once: a file is accounted as if it were
    played at real-time pace, without waiting for it. Misses from backlog are counted the same."""

    name = "skip"

    def __init__(self):
        self.skipped = 0.0

    def now(self) -> float:
        return time.perf_counter() + self.skipped

    def sleep_until(self, t: float) -> None:
        self.skipped += max(0.0, t - self.now())


class FakeClock:
    """Virtual time that moves only by ``sleep_until`` and ``advance``: compute is free unless a
    test says otherwise (e.g. ``before_step=lambda k: clock.advance(0.2) if k == 5 else None``)."""

    name = "fake"

    def __init__(self, start: float = 0.0):
        self.t = start

    def now(self) -> float:
        return self.t

    def sleep_until(self, t: float) -> None:
        self.t = max(self.t, t)

    def advance(self, seconds: float) -> None:
        self.t += seconds


class Source(Protocol):
    sample_rate: int
    channels: int

    def start(self, clock: Clock) -> float: ...      # -> start time on the clock
    def read(self) -> tuple[np.ndarray, float] | None: ...   # (C, n) float32, arrival time; None = end
    def close(self) -> None: ...


class PacedSource:
    """Blocks from an iterator, each released when its last sample would have arrived live."""

    def __init__(self, blocks: Iterator[np.ndarray], sample_rate: int, channels: int, notes=()):
        self.blocks, self.sample_rate, self.channels = blocks, sample_rate, channels
        self.notes = list(notes)
        self.clock: Clock | None = None
        self.t0 = 0.0
        self.samples = 0

    def start(self, clock: Clock) -> float:
        self.clock, self.t0 = clock, clock.now()
        return self.t0

    def read(self) -> tuple[np.ndarray, float] | None:
        block = next(self.blocks, None)
        if block is None:
            return None
        self.samples += block.shape[-1]
        arrival = self.t0 + self.samples / self.sample_rate
        self.clock.sleep_until(arrival)
        return block, arrival

    def close(self) -> None:
        close = getattr(self.blocks, "close", None)
        if close is not None:
            close()


def array_source(audio: np.ndarray, sample_rate: int, block: int) -> PacedSource:
    """A (C, T) array played live in blocks of ``block`` samples."""
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    blocks = (audio[:, i:i + block] for i in range(0, audio.shape[-1], block))
    return PacedSource(blocks, sample_rate, audio.shape[0])


def file_source(path: str | Path, sample_rate: int, channels: int, block: int) -> PacedSource:
    """An audio file played live, decoded (and resampled, downmixed) block by block: fixed memory
    for any length and rate; a truncated or corrupt file stops the stream with a one-line error."""
    mix = open_mix(path, sample_rate, channels, block)
    return PacedSource(iter(mix), sample_rate, channels, mix.notes)
