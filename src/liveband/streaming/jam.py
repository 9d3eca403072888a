"""Live accompaniment against the clock: audio in, one latent frame at a time, audio out.

*Timing.* Input audio arrives in real time, from a sound device or from a file released at the
pace of a clock. Latent frame k (input samples ``[k * hop, (k + 1) * hop)``) is *ready* when its
last sample has arrived. Its output block is the accompaniment for input frame ``k + tau`` and is
*due* one budget later: tau frames (the anticipation, paper sec. 3), or ``budget_ms`` when tau is
0 (default one frame). Each frame's compute time (streaming encoder, generator step, streaming
decoder, all through ``Accompanist``) is measured on the same clock; a frame that finishes after
its due time is a *deadline miss*. A backlog counts: a frame queued behind a slow one starts late.

*Late frames.* A block that misses its deadline was needed before it existed, so it is never
played. The sink gets a concealment block instead: the last played block mirrored in time (it
starts on the very sample where playback stopped, so there is no step) under a raised-cosine
fade-out of ``fade_ms``, then silence; the next on-time block starts with a fade-in of the same
length. The model itself still runs every frame, so its caches stay in step with the input and
every later frame is exactly what it would have been. The stream never stops for a miss.

*Memory* is fixed however long the stream: one frame of input (a file is decoded, downmixed
and resampled block by block, ``streaming.file_io``), a sink buffer of at most
``tau + 2`` frames (files are written incrementally to a temporary file renamed at the end),
a fixed histogram of step times for the percentiles and at most ``MAX_LISTED_MISSES`` miss
records. *Ctrl-C* stops at the next frame; the output and the report are still written.

Pacing is a ``Clock`` object: ``WallClock`` (real time), ``SkipClock`` (real compute time but
idle waits skipped, so a file is accounted as if paced, faster than real time) or ``FakeClock``
(virtual time for tests, where a test can make chosen frames slow).
"""

from __future__ import annotations

import dataclasses
import math
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from liveband.builders import AccompanimentBundle
from liveband.errors import LiveBandError
from liveband.streaming.accompanist import Accompanist
from liveband.streaming.file_io import FileSink, open_mix

MAX_LISTED_MISSES = 100
LATE_POLICY = ("late block replaced by the last played block mirrored in time under a {fade} ms "
               "raised-cosine fade-out, then silence; {fade} ms fade-in on the next on-time block; "
               "the model still runs every frame")


# ----------------------------------------------------------------------------- clocks


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


# ----------------------------------------------------------------------------- sources


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


def import_sounddevice(flag: str):
    """The optional ``sounddevice`` module, or a one-line error naming the flag that needed it."""
    try:
        import sounddevice
    except ImportError:
        raise LiveBandError(f"{flag}: the 'sounddevice' package is not installed "
                            "(pip install sounddevice; it needs the PortAudio library)") from None
    except OSError as exc:
        raise LiveBandError(f"{flag}: sounddevice cannot load PortAudio ({' '.join(str(exc).split())})") from None
    return sounddevice


def find_device(sd, name: str, kind: str, flag: str) -> tuple[int | str, dict]:
    """Resolve a device name (a unique substring, as sounddevice matches) or index; one-line errors."""
    device: int | str = int(name) if name.strip().isdigit() else name
    try:
        info = sd.query_devices(device, kind)
    except (ValueError, sd.PortAudioError) as exc:
        reason = " ".join(str(exc).split()) or f"no {kind} device '{name}'"
        raise LiveBandError(f"{flag}: {reason} (see liveband jam --list-devices)") from None
    return device, dict(info)


class DeviceSource:
    """Live input from a sound device: a ``sounddevice.InputStream`` whose callback stamps each
    block with its arrival time and queues it; the queue holds at most ``max_queued_seconds``."""

    def __init__(self, name: str, sample_rate: int, channels: int, block: int,
                 max_queued_seconds: float = 10.0):
        self.sd = import_sounddevice("--input-device")
        self.device, info = find_device(self.sd, name, "input", "--input-device")
        self.sample_rate, self.channels, self.block = sample_rate, channels, block
        self.device_channels = max(1, min(channels, int(info.get("max_input_channels", channels))))
        self.queue: queue.Queue = queue.Queue(maxsize=max(2, int(max_queued_seconds * sample_rate / block)))
        self.overflows = 0
        self.notes = [f"input device: {info.get('name', name)}"]
        self.stream = None
        self.clock: Clock | None = None

    def _callback(self, indata, frames, time_info, status) -> None:
        if status and getattr(status, "input_overflow", False):
            self.overflows += 1
        try:
            self.queue.put_nowait((np.array(indata.T, dtype=np.float32), self.clock.now()))
        except queue.Full:
            self.overflows += 1

    def start(self, clock: Clock) -> float:
        self.clock = clock
        try:
            self.stream = self.sd.InputStream(device=self.device, samplerate=self.sample_rate,
                                              channels=self.device_channels, dtype="float32",
                                              blocksize=self.block, callback=self._callback)
            self.stream.start()
        except Exception as exc:
            raise LiveBandError(f"--input-device: cannot open '{self.device}' at {self.sample_rate} Hz "
                                f"({' '.join(str(exc).split())[:160]})") from None
        return clock.now()

    def read(self, timeout: float = 0.1) -> tuple[np.ndarray, float] | None:
        while True:
            try:
                block, stamp = self.queue.get(timeout=timeout)
            except queue.Empty:
                if self.stream is None or not self.stream.active:
                    return None
                return np.zeros((self.channels, 0), np.float32), self.clock.now()  # lets Ctrl-C be seen
            if block.shape[0] != self.channels:
                block = np.repeat(block, self.channels, axis=0) if block.shape[0] == 1 else block[: self.channels]
            return block, stamp

    def close(self) -> None:
        if self.stream is not None:
            self.stream.stop()
            self.stream.close()
            self.stream = None


# ----------------------------------------------------------------------------- sinks


class DeviceSink:
    """Playback through a ``sounddevice.OutputStream`` fed from a fixed ring buffer.

    Positions are absolute sample counts. The stream starts ``lead`` samples of silence ahead,
    so block k plays when it is due. The device callback plays whatever has arrived; if a block
    has not (an underrun) it ramps the last sample to zero over ``fade`` samples, plays silence
    for the rest, and the late samples are dropped when they come, so the output never drifts.
    """

    def __init__(self, name: str, sample_rate: int, channels: int, lead: int, block: int,
                 fade: int, capacity: int):
        self.sd = import_sounddevice("--output-device")
        self.device, info = find_device(self.sd, name, "output", "--output-device")
        self.channels = channels
        self.ring = np.zeros((capacity, channels), np.float32)
        self.read_pos, self.write_pos = 0, lead
        self.fade = max(1, fade)
        self.last = np.zeros(channels, np.float32)
        self.underruns = self.dropped = 0
        self.lock = threading.Lock()
        self.notes = [f"output device: {info.get('name', name)}"]
        try:
            self.stream = self.sd.OutputStream(device=self.device, samplerate=sample_rate, channels=channels,
                                               dtype="float32", blocksize=block, callback=self._callback)
            self.stream.start()
        except Exception as exc:
            raise LiveBandError(f"--output-device: cannot open '{self.device}' at {sample_rate} Hz "
                                f"({' '.join(str(exc).split())[:160]})") from None

    def _ring_slices(self, start: int, n: int) -> tuple[slice, slice]:
        """Ring positions of absolute samples [start, start + n): at most two pieces."""
        cap = self.ring.shape[0]
        first = min(n, cap - start % cap)
        return slice(start % cap, start % cap + first), slice(0, n - first)

    def _callback(self, outdata, frames, time_info, status) -> None:
        with self.lock:
            have = int(np.clip(self.write_pos - self.read_pos, 0, frames))
            a, b = self._ring_slices(self.read_pos, have)
            outdata[: a.stop - a.start] = self.ring[a]
            outdata[a.stop - a.start:have] = self.ring[b]
            if have < frames:
                self.underruns += 1
                last = outdata[have - 1] if have else self.last
                ramp = min(self.fade, frames - have)
                outdata[have:have + ramp] = last * np.linspace(1.0, 0.0, ramp, dtype=np.float32)[:, None]
                outdata[have + ramp:] = 0.0
            self.last = outdata[-1].copy()
            self.read_pos += frames

    def write(self, block: np.ndarray, input_samples: int) -> None:
        with self.lock:
            n, cap = block.shape[-1], self.ring.shape[0]
            skip = min(n, max(0, self.read_pos - self.write_pos))  # already due: the callback concealed it
            keep = max(0, min(n - skip, cap - (self.write_pos + skip - self.read_pos)))  # room in the ring
            a, b = self._ring_slices(self.write_pos + skip, keep)
            data = block[:, skip:skip + keep].T
            self.ring[a] = data[: a.stop - a.start]
            self.ring[b] = data[a.stop - a.start:]
            self.dropped += n - keep
            self.write_pos += n

    def buffered_samples(self) -> int:
        return self.ring.shape[0]

    def close(self, input_samples: int, ok: bool = True) -> None:
        with self.lock:
            pending = max(0, self.write_pos - self.read_pos)
        deadline = time.monotonic() + pending / max(1, self.stream.samplerate) + 0.5 if ok else 0
        while ok and time.monotonic() < deadline and self.write_pos > self.read_pos:
            time.sleep(0.02)  # let what was produced play out
        self.stream.stop()
        self.stream.close()


# ----------------------------------------------------------------------------- accounting


class StepHistogram:
    """Step times in fixed memory: count, mean, max and log-spaced bins (~1.2 % wide) for quantiles."""

    def __init__(self, low: float = 1e-6, high: float = 100.0, per_decade: int = 200):
        self.low, self.per_decade = low, per_decade
        self.bins = np.zeros(int(math.ceil(math.log10(high / low) * per_decade)) + 1, np.int64)
        self.count, self.total, self.max = 0, 0.0, 0.0

    def add(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        i = 0 if seconds <= self.low else int(math.log10(seconds / self.low) * self.per_decade) + 1
        self.bins[min(i, len(self.bins) - 1)] += 1
        self.count += 1
        self.total += seconds
        self.max = max(self.max, seconds)

    def quantile(self, q: float) -> float:
        """The q-quantile (seconds), to the bin's resolution; 0 for bin 0 (at or below ``low``)."""
        if not self.count:
            return 0.0
        i = int(np.searchsorted(np.cumsum(self.bins), q * self.count, side="left"))
        if i == 0:
            return 0.0
        centre = self.low * 10 ** ((i - 0.5) / self.per_decade)
        return min(centre, self.max)

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


@dataclasses.dataclass
class Miss:
    frame: int
    late_ms: float   # finish time minus due time
    step_ms: float   # compute time of the frame itself


def _tensor_bytes(obj, depth: int = 0) -> int:
    """Bytes held by the tensors and arrays inside a (nested) streaming state object."""
    if isinstance(obj, torch.Tensor):
        return obj.untyped_storage().nbytes()  # a view keeps its whole buffer alive
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if depth > 6 or obj is None or isinstance(obj, (int, float, str, bool)):
        return 0
    if isinstance(obj, (list, tuple)):
        return sum(_tensor_bytes(x, depth + 1) for x in obj)
    if isinstance(obj, dict):
        return sum(_tensor_bytes(x, depth + 1) for x in obj.values())
    if isinstance(obj, torch.nn.Module):
        return 0  # weights, not stream state
    fields = getattr(obj, "__dict__", None)
    return sum(_tensor_bytes(x, depth + 1) for x in fields.values()) if fields else 0


# ----------------------------------------------------------------------------- the session


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
        cosine = np.cos(np.pi * np.arange(min(self.fade, self.hop)) / self.fade)
        self._fade_in = (0.5 - 0.5 * cosine).astype(np.float32)                     # from 0 up
        self._fade_out = np.zeros(self.hop, np.float32)                             # from 1 down, then 0
        self._fade_out[: cosine.size] = 0.5 + 0.5 * cosine
        self._frame = np.zeros((self.channels, self.hop), np.float32)
        self._fill = 0
        self._last_played = np.zeros((self.channels, self.hop), np.float32)
        self._conceal = np.zeros((self.channels, self.hop), np.float32)
        self._after_miss = False
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
                  self._frame, self._last_played, self._conceal, self.steps.bins]
        sink = self.sink.buffered_samples() * self.channels * 4
        return sum(_tensor_bytes(s) for s in states) + sink + 64 * len(self.listed_misses)

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
            np.multiply(self._last_played[:, ::-1], self._fade_out, out=self._conceal)
            out = self._conceal
            self._after_miss = True
        elif self._after_miss:
            out = out.copy()
            out[:, : self._fade_in.size] *= self._fade_in
            self._after_miss = False
        self._last_played[:] = out
        self.frames += 1
        self.sink.write(self._last_played.copy(), self.input_samples)

    def report(self) -> dict:
        ms = 1e3
        steps = self.steps
        mean = steps.mean
        return {
            "frames": self.frames,
            "misses": self.misses,
            "miss_rate": round(self.misses / self.frames, 6) if self.frames else 0.0,
            "budget_ms": round(self.budget * ms, 3),
            "frame_ms": round(self.frame_seconds * ms, 3),
            "step_ms": {"mean": round(mean * ms, 3), "p50": round(steps.quantile(0.5) * ms, 3),
                        "p95": round(steps.quantile(0.95) * ms, 3), "p99": round(steps.quantile(0.99) * ms, 3),
                        "max": round(steps.max * ms, 3)},
            "real_time_factor": round(self.frame_seconds / mean, 2) if mean > 0 else None,
            "max_late_ms": round(self.max_late * ms, 3),
            "late_frames": [dataclasses.asdict(m) for m in self.listed_misses],
            "late_policy": LATE_POLICY.format(fade=self.fade_ms),
            "tau_frames": self.acc.tau,
            "hop": self.hop,
            "sample_rate": self.sample_rate,
            "audio_seconds": round(self.input_samples / self.sample_rate, 3),
            "wall_seconds": round(getattr(self, "wall_seconds", 0.0), 3),
            "clock": getattr(self.clock, "name", type(self.clock).__name__),
            "interrupted": self.interrupted,
            "input_overflows": getattr(self.source, "overflows", 0),
            "output_underruns": getattr(self.sink, "underruns", 0),
            "notes": list(getattr(self.source, "notes", [])) + list(getattr(self.sink, "notes", [])),
            "warnings": self.warnings(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
        }


    def warnings(self) -> list[str]:
        """What a user should not miss: every frame late (the output is only concealment), and
        the file sink's level warnings (near-silent, clipped)."""
        found = []
        if self.frames and self.misses == self.frames:
            found.append(f"every one of the {self.frames} frames missed its deadline, so the output is "
                         "silence (see --budget-ms, --threads, or a larger tau)")
        return found + list(getattr(self.sink, "warnings", []))


def summary_line(report: dict) -> str:
    s = report["step_ms"]
    return (f"jam: {report['frames']} frames ({report['audio_seconds']:.1f} s), {report['misses']} deadline "
            f"misses; step p50 {s['p50']:.2f} ms, p99 {s['p99']:.2f} ms, max {s['max']:.2f} ms; "
            f"budget {report['budget_ms']:.1f} ms; RTF {report['real_time_factor']}"
            + (" (interrupted)" if report["interrupted"] else ""))


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
