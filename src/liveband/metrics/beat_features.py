"""madmom's beat-tracking input features, computed for all frames at once.

madmom's ``RNNBeatProcessor`` feeds its networks, for each frame size (1024, 2048, 4096
samples at 44.1 kHz, hop 441), a log-filtered magnitude spectrogram and its positive
temporal difference. Its STFT frames the signal and calls the FFT one frame at a time in
Python (300 calls per second of audio). :class:`BeatFeatures` reads the same
configuration from madmom's processor (frame size, hop, origin, window, filterbank class and
parameters, ``log(mul * x + add)``, diff ratio) and computes the same maths vectorised:

- frames: frame ``i`` covers samples ``[int(i * hop) - frame_size // 2 - origin, + frame_size)``,
  zero outside the signal, ``ceil(N / hop)`` frames (madmom's ``end='normal'``);
- each frame times the float64 window, one real FFT per block of frames (scipy's pocketfft,
  the library behind madmom's ``scipy.fftpack.fft``), bins ``[0, frame_size // 2)`` (no
  Nyquist bin) rounded to complex64, magnitudes in float32;
- float32 product with madmom's own filterbank, then ``log(mul * x + add)`` (log10) in place;
- difference to the frame ``diff_frames`` earlier (0 for the first ones), negatives set to 0;
- per frame size ``[spectrogram, difference]``, all frame sizes side by side.

Same float64 windowing, same FFT algorithm, same float32 steps: the features equal madmom's to
float32 rounding (a test compares them on synthetic clips; on real clips they came out
bit-identical), about 2x faster per clip (``benchmarks/bench_beat_features.py``), the
float64 FFT being most of what is left.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft

from liveband.errors import LiveBandError

FRAMES_PER_BLOCK = 64  # frames windowed and transformed together (bounds the float64 buffers)


@dataclass(frozen=True)
class Resolution:
    """One frame size of the feature chain, with everything madmom derives from it."""

    frame_size: int
    hop_size: float
    origin: int
    window: np.ndarray       # (frame_size,) float64
    filterbank: np.ndarray   # (frame_size // 2, bands) float32
    log: np.ufunc | None
    mul: float | None
    add: float | None
    diff_frames: int
    positive_diffs: bool

    def frames(self, signal: np.ndarray) -> np.ndarray:
        """``(ceil(N / hop), frame_size)`` frames of ``signal``, zero-padded at both ends
        (a strided view when the hop is a whole number of samples, else a copy).
        """
        n = int(np.ceil(len(signal) / self.hop_size))
        if n == 0:
            return np.zeros((0, self.frame_size), signal.dtype)
        starts = (np.arange(n) * self.hop_size).astype(np.int64) - self.frame_size // 2 - self.origin
        left = max(0, -int(starts[0]))
        right = max(0, int(starts[-1]) + self.frame_size - len(signal))
        windows = np.lib.stride_tricks.sliding_window_view(np.pad(signal, (left, right)), self.frame_size)
        if self.hop_size.is_integer():
            return windows[int(starts[0]) + left::int(self.hop_size)][:n]
        return windows[starts + left]

    def magnitudes(self, signal: np.ndarray) -> np.ndarray:
        """float32 ``|STFT|`` ``(frames, frame_size // 2)`` of ``signal``."""
        frames = self.frames(signal)
        bins = self.frame_size // 2
        out = np.empty((len(frames), bins), np.float32)
        block = np.empty((min(len(frames), FRAMES_PER_BLOCK), self.frame_size))
        for k in range(0, len(frames), FRAMES_PER_BLOCK):
            m = min(FRAMES_PER_BLOCK, len(frames) - k)
            np.multiply(frames[k:k + m], self.window, out=block[:m])                # float64, like madmom
            spectrum = scipy.fft.rfft(block[:m], axis=-1)[:, :bins].astype(np.complex64)
            np.abs(spectrum, out=out[k:k + m])
        return out

    def features(self, signal: np.ndarray) -> np.ndarray:
        """``[log-filtered spectrogram, its positive difference]`` ``(frames, 2 * bands)``."""
        spec = np.dot(self.magnitudes(signal), self.filterbank)
        if self.mul is not None:
            spec *= self.mul
        if self.add is not None:
            spec += self.add
        if self.log is not None:
            self.log(spec, spec)
        d = self.diff_frames
        diff = np.zeros_like(spec)
        diff[d:] = spec[d:] - spec[:-d]
        if self.positive_diffs:
            np.maximum(diff, 0, out=diff)
        return np.hstack((spec, diff))


class BeatFeatures:
    """madmom ``RNNBeatProcessor``'s pre-processing: mono float audio at ``sample_rate`` ->
    ``(frames, features)`` float32, one row per hop.
    """

    def __init__(self, resolutions: list[Resolution], sample_rate: int):
        if not resolutions:
            raise LiveBandError("beat features: no frame sizes configured")
        self.resolutions = resolutions
        self.sample_rate = sample_rate

    @classmethod
    def from_processor(cls, pre_processor) -> BeatFeatures:
        """From madmom's pre-processor ``RNNBeatProcessor().processors[0]``
        (``SignalProcessor``, ``ParallelProcessor`` of per-frame-size chains, ``np.hstack``).
        """
        from madmom.audio.filters import Filterbank
        from madmom.audio.spectrogram import _diff_frames
        from madmom.audio.stft import fft_frequencies

        sig, multi, _stack = pre_processor.processors
        if sig.num_channels != 1 or sig.norm or sig.gain or sig.start is not None or sig.stop is not None:
            raise LiveBandError("beat features: madmom's signal processor has options this port does not cover")
        resolutions = []
        for chain in multi.processors:
            framing, stft, filt, logspec, diff = chain.processors
            unsupported = (framing.fps is not None or framing.end != "normal" or framing.num_frames is not None
                           or not isinstance(framing.origin, int) or stft.fft_size is not None
                           or stft.circular_shift or stft.include_nyquist
                           or diff.diff_max_bins is not None or diff.diff_frames is not None)
            if unsupported:
                raise LiveBandError("beat features: madmom's feature chain has options this port does not cover")
            size = int(framing.frame_size)
            window = stft.window(size) if callable(stft.window) else np.asarray(stft.window)
            filterbank = filt.filterbank
            if not isinstance(filterbank, Filterbank):
                filterbank = filterbank(fft_frequencies(size // 2, sig.sample_rate), num_bands=filt.num_bands,
                                        fmin=filt.fmin, fmax=filt.fmax, fref=filt.fref,
                                        norm_filters=filt.norm_filters, unique_filters=filt.unique_filters)
            resolutions.append(Resolution(
                frame_size=size, hop_size=float(framing.hop_size), origin=framing.origin,
                window=np.asarray(window, dtype=np.float64), filterbank=np.asarray(filterbank),
                log=logspec.log, mul=logspec.mul, add=logspec.add,
                diff_frames=_diff_frames(diff.diff_ratio, hop_size=float(framing.hop_size), frame_size=size,
                                         window=stft.window),
                positive_diffs=bool(diff.positive_diffs)))
        return cls(resolutions, int(sig.sample_rate))

    def __call__(self, signal: np.ndarray) -> np.ndarray:
        x = np.asarray(signal)
        if x.ndim != 1 or not np.issubdtype(x.dtype, np.floating):
            raise LiveBandError(f"beat features: expected mono (N,) float audio, got {x.dtype} of shape {x.shape}")
        return np.hstack([r.features(x) for r in self.resolutions])
