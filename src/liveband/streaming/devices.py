"""Sound devices for a live session: input from and playback through ``sounddevice`` (optional).

``DeviceSource`` stamps each captured block with its arrival time on the session's clock;
``DeviceSink`` plays from a fixed ring buffer that starts a lead of silence ahead, conceals
underruns with a short ramp to zero and drops samples that arrive after they were due, so the
output never drifts.
"""

from __future__ import annotations

import queue
import threading
import time

import numpy as np

from liveband.errors import LiveBandError
from liveband.streaming.pacing import Clock


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
