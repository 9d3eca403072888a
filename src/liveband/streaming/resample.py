"""Sample-rate conversion of a stream, block by block, in fixed memory.

``StreamResampler`` computes what ``scipy.signal.resample_poly`` (``liveband.data.audio_io.
resample``) computes for the whole signal: the same Kaiser-windowed FIR filter (scipy's design:
``firwin(20 * max_rate + 1, 1 / max_rate, window=("kaiser", 5.0))``), the same output
alignment and length (``ceil(n * up / down)``), zeros beyond both ends. It keeps only the
input samples the next outputs still need (one filter length), so a file of any length is
resampled without being held whole; outputs lag the input by half a filter (~10 samples at
44.1 -> 22.05 kHz) until ``flush``.
"""

from __future__ import annotations

from math import gcd

import numpy as np
from scipy.signal import firwin

MAX_OUTPUTS_PER_PASS = 4096  # bounds the (C, M, taps) gather of one pass


class StreamResampler:
    """Push (C, n) blocks at ``sr_from``; get (C, k) blocks at ``sr_to``; ``flush`` at the end."""

    def __init__(self, sr_from: int, sr_to: int, channels: int):
        g = gcd(sr_from, sr_to)
        self.up, self.down = sr_to // g, sr_from // g
        self.channels = channels
        self.inputs = 0        # input samples pushed
        self.outputs = 0       # output samples returned
        if self.passthrough:
            return
        max_rate = max(self.up, self.down)
        half_len = 10 * max_rate
        h = firwin(2 * half_len + 1, 1.0 / max_rate, window=("kaiser", 5.0)).astype(np.float32) * self.up
        pre_pad = self.down - half_len % self.down
        h = np.concatenate([np.zeros(pre_pad, np.float32), h])
        self.delay = (half_len + pre_pad) // self.down         # outputs resample_poly drops at the start
        self.taps_per_phase = -(-h.size // self.up)
        h = np.pad(h, (0, self.taps_per_phase * self.up - h.size))
        # phase p, tap i multiplies x[n_hi - i]: h[p + i * up]
        self.taps = np.ascontiguousarray(h.reshape(self.taps_per_phase, self.up).T)   # (up, K) float32, as scipy
        self.buffer = np.zeros((channels, self.taps_per_phase - 1), np.float32)      # x[-(K-1):0] = 0
        self.buffer_start = -(self.taps_per_phase - 1)     # absolute input index of buffer[:, 0]

    @property
    def passthrough(self) -> bool:
        return self.up == self.down == 1

    def push(self, block: np.ndarray) -> np.ndarray:
        """(C, n) float32 input -> (C, k) output: every sample the input so far determines."""
        if self.passthrough:
            return block
        self.buffer = np.concatenate([self.buffer, np.asarray(block, np.float32)], axis=1)
        self.inputs += block.shape[-1]
        ready = -(-self.inputs * self.up // self.down) - self.delay   # outputs whose inputs have all arrived
        return self._emit(ready)

    def flush(self) -> np.ndarray:
        """The remaining outputs (zeros taken beyond the end), up to ``ceil(n * up / down)`` in all."""
        if self.passthrough:
            return np.zeros((self.channels, 0), np.float32)
        total = -(-self.inputs * self.up // self.down)
        if total > self.outputs:
            last = ((total - 1 + self.delay) * self.down) // self.up        # newest input the tail reads
            pad = max(0, last + 1 - (self.buffer_start + self.buffer.shape[-1]))
            self.buffer = np.pad(self.buffer, ((0, 0), (0, pad)))
        return self._emit(total)

    def _emit(self, stop: int) -> np.ndarray:
        pieces = [np.zeros((self.channels, 0), np.float32)]
        while self.outputs < stop:
            m = np.arange(self.outputs, min(stop, self.outputs + MAX_OUTPUTS_PER_PASS))
            j = (m + self.delay) * self.down                   # index in the upsampled, filtered signal
            newest, phase = j // self.up, j % self.up
            index = newest[:, None] - np.arange(self.taps_per_phase)[None, :] - self.buffer_start   # (M, K)
            frames = self.buffer[:, index]                     # (C, M, K)
            pieces.append(np.einsum("cmk,mk->cm", frames, self.taps[phase]).astype(np.float32))
            self.outputs += m.size
        keep_from = ((self.outputs + self.delay) * self.down) // self.up - (self.taps_per_phase - 1)
        drop = max(0, keep_from - self.buffer_start)
        if drop:
            self.buffer = self.buffer[:, drop:]
            self.buffer_start += drop
        return np.concatenate(pieces, axis=1)
