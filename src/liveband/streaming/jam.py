"""Live accompaniment against the clock: audio in, one latent frame at a time, audio out.

*Timing.* Input audio arrives in real time, from a sound device or from a file released at the
pace of a clock. Latent frame k (input samples ``[k * hop, (k + 1) * hop)``) is *ready* when its
last sample has arrived. Its output block is the accompaniment for input frame ``k + tau`` and is
*due* one budget later: tau frames (the anticipation, paper sec. 3), or ``budget_ms`` when tau is
0 (default one frame). Each frame's compute time (streaming encoder, generator step, streaming
decoder, all through ``Accompanist``) is measured on the same clock; a frame that finishes after
its due time is a *deadline miss*. A backlog counts: a frame queued behind a slow one starts late.

*Late frames.* A block that misses its deadline is never played; the sink gets a concealment
block instead (``streaming.concealment``: the last played block mirrored in time under a
raised-cosine fade-out of ``fade_ms``, then silence, and a fade-in after). The model itself still
runs every frame, so its caches stay in step with the input and every later frame is exactly what
it would have been. The stream never stops for a miss.

*Memory* is fixed however long the stream: one frame of input (a file is decoded, downmixed
and resampled block by block, ``streaming.file_io``), a sink buffer of at most
``tau + 2`` frames (files are written incrementally to a temporary file renamed at the end),
a fixed histogram of step times for the percentiles and at most ``MAX_LISTED_MISSES`` miss
records. *Ctrl-C* stops at the next frame; the output and the report are still written.

Pacing is a ``Clock`` object: ``WallClock`` (real time), ``SkipClock`` (real compute time but
idle waits skipped, so a file is accounted as if paced, faster than real time) or ``FakeClock``
(virtual time for tests, where a test can make chosen frames slow).

This module is the per-frame engine and its deadline accounting; clocks and file pacing live in
``streaming.pacing``, sound devices in ``streaming.devices``, the report in ``streaming.jam_report``
(their public names are importable from here too).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from liveband.builders import AccompanimentBundle
from liveband.errors import LiveBandError
from liveband.streaming.accompanist import Accompanist
from liveband.streaming.concealment import Concealment
from liveband.streaming.devices import DeviceSink, DeviceSource, find_device, import_sounddevice
from liveband.streaming.file_io import FileSink
from liveband.streaming.jam_report import (
    LATE_POLICY,
    MAX_LISTED_MISSES,
    Miss,
    StepHistogram,
    session_report,
    session_warnings,
    summary_line,
    tensor_bytes,
)
from liveband.streaming.pacing import (
    Clock,
    FakeClock,
    PacedSource,
    SkipClock,
    Source,
    WallClock,
    array_source,
    file_source,
)

__all__ = [  # the engine, and the names of the role modules a caller of ``jam`` needs
    "Clock", "DeviceSink", "DeviceSource", "FakeClock", "FileSink", "JamSession", "LATE_POLICY",
    "MAX_LISTED_MISSES", "Miss", "PacedSource", "SkipClock", "Source", "StepHistogram", "WallClock",
    "array_source", "deadline_budget", "file_source", "find_device", "import_sounddevice",
    "open_session", "summary_line",
]


class JamSession:
    """One live run: ``source`` -> ``Accompanist`` per latent frame -> ``sink``, on ``clock``.

    ``budget_ms`` overrides the deadline (default: tau frames, or one frame when tau is 0).
    ``before_step(k)`` runs inside frame k's timed region (fault injection for tests).
    """

    def __init__(self, bundle: AccompanimentBundle, instrument: int, source, sink, clock: Clock,
                 seed: int = 0, budget_ms: float | None = None, fade_ms: float = 10.0,
                 before_step: Callable[[int], None] | None = None, sampling: dict | None = None,
                 gain_db: float = 0.0, device: torch.device | str = "cpu"):
        self.gain = np.float32(10.0 ** (gain_db / 20.0))
        self.acc = Accompanist(bundle, instrument, seed=seed, device=device, **(sampling or {}))
        self.hop, self.sample_rate, self.channels = self.acc.hop, self.acc.sample_rate, self.acc.channels
        if source.sample_rate != self.sample_rate or source.channels != self.channels:
            raise LiveBandError(f"input: {source.sample_rate} Hz x{source.channels} does not match the "
                                f"model's {self.sample_rate} Hz x{self.channels}")
        self.frame_seconds = self.hop / self.sample_rate
        self.budget = deadline_budget(self.acc.tau, self.frame_seconds, budget_ms)
        self.source, self.sink, self.clock = source, sink, clock
        self.before_step = before_step
        self.fade = max(1, int(round(fade_ms * 1e-3 * self.sample_rate)))
        self.fade_ms = fade_ms
        self.concealment = Concealment(self.channels, self.hop, self.fade)
        self._frame = np.zeros((self.channels, self.hop), np.float32)
        self._fill = 0
        self.steps = StepHistogram()
        self.misses = 0
        self.listed_misses: list[Miss] = []
        self.max_late = 0.0
        self.frames = 0
        self.input_samples = 0
        self.stop_requested = False
        self.interrupted = False

    # -- control

    def request_stop(self) -> None:
        """Finish the current frame, then flush and end (what Ctrl-C does)."""
        self.stop_requested = True

    def buffer_bytes(self) -> int:
        """Memory held by the stream's buffers and states (not the weights); constant over a run."""
        acc = self.acc
        states = [acc.encoder.state, acc.decoder.state, getattr(acc.stream, "caches", None),
                  self._frame, self.concealment.last_played, self.concealment.concealed, self.steps.bins]
        sink = self.sink.buffered_samples() * self.channels * 4
        return sum(tensor_bytes(s) for s in states) + sink + 64 * len(self.listed_misses)

    # -- the loop

    def run(self) -> dict:
        """Stream until the input ends or a stop is requested; always flushes the sink. -> report."""
        restore = self._install_sigint()
        wall_start = time.perf_counter()
        ok = False
        try:
            self.t0 = self.source.start(self.clock)
            while not self.stop_requested:
                item = self.source.read()
                if item is None:
                    break
                chunk, arrival = item
                self._consume(chunk, arrival)
            ok = True
        except KeyboardInterrupt:  # a second Ctrl-C: stop mid-frame, still flush what was made
            self.interrupted = ok = True
        finally:
            try:
                self.source.close()
            finally:
                self.sink.close(self.input_samples, ok=ok)
                restore()
        self.wall_seconds = time.perf_counter() - wall_start
        return self.report()

    def _install_sigint(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = signal.getsignal(signal.SIGINT)

        def on_sigint(signum, frame):
            if self.stop_requested:  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            self.interrupted = True
            self.request_stop()

        signal.signal(signal.SIGINT, on_sigint)
        return lambda: signal.signal(signal.SIGINT, previous)

    def _consume(self, chunk: np.ndarray, arrival: float) -> None:
        """Cut a (C, n) chunk into hop-sized frames; each complete frame is processed at once."""
        n, i = chunk.shape[-1], 0
        while i < n:
            take = min(self.hop - self._fill, n - i)
            self._frame[:, self._fill:self._fill + take] = chunk[:, i:i + take]
            self._fill += take
            i += take
            self.input_samples += take
            if self._fill == self.hop:
                self._fill = 0
                ready = arrival - (n - i) / self.sample_rate  # when this frame's last sample arrived
                self._process_frame(ready)

    def _process_frame(self, ready: float) -> None:
        k = self.frames
        due = ready + self.budget
        start = self.clock.now()
        if self.before_step is not None:
            self.before_step(k)
        block = self.acc.push(torch.from_numpy(self._frame.copy())[None])  # (1, C, hop)
        finish = self.clock.now()
        if block.shape[-1] != self.hop:
            raise RuntimeError(f"streaming step produced {block.shape[-1]} samples, expected {self.hop}")
        self.steps.add(finish - start)
        out = block[0].numpy() * self.gain
        late = finish - due
        if late > 0:
            self.misses += 1
            self.max_late = max(self.max_late, late)
            if len(self.listed_misses) < MAX_LISTED_MISSES:
                self.listed_misses.append(Miss(k, round(late * 1e3, 3), round((finish - start) * 1e3, 3)))
        played = self.concealment.play(out, late > 0)
        self.frames += 1
        self.sink.write(played.copy(), self.input_samples)

    def report(self) -> dict:
        return session_report(self)

    def warnings(self) -> list[str]:
        return session_warnings(self.frames, self.misses, self.sink)


def deadline_budget(tau_frames: int, frame_seconds: float, budget_ms: float | None) -> float:
    """Seconds from a frame being ready to its output being due: tau frames, or ``budget_ms``
    (which must be given as a positive number to override), or one frame when tau is 0."""
    if budget_ms is not None:
        if not budget_ms > 0:
            raise LiveBandError(f"--budget-ms: must be > 0, got {budget_ms}")
        return budget_ms / 1e3
    return max(tau_frames, 1) * frame_seconds


def open_session(bundle: AccompanimentBundle, instrument: int, *, input_path: str | Path | None = None,
                 input_device: str | None = None, out_path: str | Path | None = None,
                 output_device: str | None = None, clock: Clock | None = None, seed: int = 0,
                 budget_ms: float | None = None, fade_ms: float = 10.0, sampling: dict | None = None,
                 before_step: Callable[[int], None] | None = None, gain_db: float = 0.0,
                 normalize_dbfs: float | None = None, device: torch.device | str = "cpu") -> JamSession:
    """A ready ``JamSession`` from one input (file or device) and one output (file or device).

    The clock defaults to the wall clock: a file input is then released at real-time pace.
    ``gain_db`` scales every generated block; ``normalize_dbfs`` (a file output only) scales the
    finished file to that peak level (``FileSink``).
    """
    if (input_path is None) == (input_device is None):
        raise LiveBandError("jam: give exactly one of --input FILE or --input-device NAME")
    if (out_path is None) == (output_device is None):
        raise LiveBandError("jam: give exactly one of --out FILE or --output-device NAME")
    if fade_ms < 0:
        raise LiveBandError(f"--fade-ms: must be >= 0, got {fade_ms}")
    if normalize_dbfs is not None and out_path is None:
        raise LiveBandError("--normalize: only for --out FILE (a device plays before the peak is known)")
    ae = bundle.autoencoder.cfg
    sr, channels, hop = ae.sample_rate, ae.channels, ae.hop
    budget = deadline_budget(bundle.tau_frames, hop / sr, budget_ms)
    if input_path is not None:
        source = file_source(input_path, sr, channels, hop)
    else:
        source = DeviceSource(input_device, sr, channels, hop)
    try:
        if out_path is not None:
            sink = FileSink(out_path, sr, channels, lead=bundle.tau_frames * hop, normalize_dbfs=normalize_dbfs)
        else:
            lead = hop + int(round(budget * sr))  # block k plays when it is due
            sink = DeviceSink(output_device, sr, channels, lead=lead, block=hop,
                              fade=int(round(fade_ms * 1e-3 * sr)), capacity=lead + 16 * hop)
    except BaseException:
        source.close()
        raise
    clock = clock if clock is not None else WallClock()
    try:
        return JamSession(bundle, instrument, source, sink, clock, seed=seed, budget_ms=budget * 1e3,
                          fade_ms=fade_ms, before_step=before_step, sampling=sampling, gain_db=gain_db,
                          device=device)
    except BaseException:
        source.close()
        sink.close(0, ok=False)
        raise
