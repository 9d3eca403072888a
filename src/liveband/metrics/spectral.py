"""Spectral front ends shared by the metric backends: STFT, mel filterbanks, log-mel, HPSS.

Written with numpy/scipy so no audio library (librosa, torchaudio) is needed. Conventions:
spectrograms are ``(F, T)`` (frequency bins by frames), power unless the name says magnitude.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps


def stft(audio: np.ndarray, n_fft: int, hop: int, win_length: int | None = None,
         center: bool = True) -> np.ndarray:
    """Complex STFT ``(n_fft // 2 + 1, T)`` with a periodic Hann window of ``win_length``.

    The window is zero-padded to ``n_fft`` and centred in the frame; with ``center`` the signal
    is zero-padded by ``n_fft // 2`` on both sides so frame t is centred on sample ``t * hop``.
    """
    x = np.asarray(audio, dtype=np.float64)
    win_length = n_fft if win_length is None else win_length
    window = np.zeros(n_fft)
    left = (n_fft - win_length) // 2
    window[left:left + win_length] = sps.get_window("hann", win_length, fftbins=True)
    if center:
        x = np.pad(x, n_fft // 2)
    if len(x) < n_fft:
        x = np.pad(x, (0, n_fft - len(x)))
    n_frames = 1 + (len(x) - n_fft) // hop
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop][:n_frames]  # (T, n_fft)
    return np.fft.rfft(frames * window, axis=-1).T


def _hz_to_mel_slaney(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3.0, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    mel = hz / f_sp
    high = hz >= min_log_hz
    mel[high] = min_log_mel + np.log(hz[high] / min_log_hz) / logstep
    return mel


def _mel_to_hz_slaney(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3.0, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    hz = mel * f_sp
    high = mel >= min_log_mel
    hz[high] = min_log_hz * np.exp(logstep * (mel[high] - min_log_mel))
    return hz


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Slaney-style triangular mel filterbank ``(n_mels, n_fft // 2 + 1)``, area-normalised."""
    bin_hz = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    edges_hz = _mel_to_hz_slaney(np.linspace(_hz_to_mel_slaney(np.array([fmin]))[0],
                                             _hz_to_mel_slaney(np.array([fmax]))[0], n_mels + 2))
    lower, centre, upper = edges_hz[:-2, None], edges_hz[1:-1, None], edges_hz[2:, None]
    rising = (bin_hz[None, :] - lower) / (centre - lower)
    falling = (upper - bin_hz[None, :]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return weights * (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]


def htk_mel_matrix(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """HTK-mel triangular weights ``(n_fft // 2 + 1, n_mels)``, peak 1, DC bin excluded (VGGish front end)."""
    def hz_to_mel(hz):
        return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)

    bin_mel = hz_to_mel(np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1))
    edges = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    lower, centre, upper = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    rising = (bin_mel[:, None] - lower) / (centre - lower)
    falling = (upper - bin_mel[:, None]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights[0, :] = 0.0
    return weights


def power_to_db(power: np.ndarray, top_db: float = 80.0, amin: float = 1e-10) -> np.ndarray:
    """10 log10 of ``power`` relative to its maximum (so the loudest bin is 0 dB), floored at -top_db."""
    db = 10.0 * np.log10(np.maximum(power, amin))
    db -= db.max()
    return np.maximum(db, -top_db)


def median_filter_1d(x: np.ndarray, kernel: int, axis: int) -> np.ndarray:
    """Running median of odd length ``kernel`` along ``axis`` of a 2-D array, edges mirrored.

    Equal to ``scipy.ndimage.median_filter`` with a 1-D ``size`` and ``mode="reflect"`` (the
    edge sample repeated): the lines are mirror-padded by ``kernel // 2`` and bottleneck's
    trailing moving median (a double-heap, O(log kernel) per sample) is read ``kernel - 1``
    samples late, which centres it. A median selects one of its inputs, so the values are those
    of any exact median filter; float32 stays float32.
    """
    import bottleneck

    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"median_filter_1d: kernel must be odd and positive, got {kernel}")
    if x.ndim != 2:
        raise ValueError(f"median_filter_1d: expected a 2-D array, got shape {x.shape}")
    lines = np.moveaxis(np.asarray(x), axis, 1)  # (lines, samples): filter along the last axis
    padded = _mirror_pad(lines, kernel // 2)
    out = bottleneck.move_median(padded, kernel, axis=1)[:, kernel - 1:].astype(lines.dtype, copy=False)
    return np.moveaxis(out, 1, axis)


def _mirror_pad(lines: np.ndarray, half: int) -> np.ndarray:
    """Pad the last axis by ``half`` on both sides, mirroring with the edge sample repeated
    (``d c b a | a b c d | d c ...``), also when ``half`` exceeds the line length.
    """
    n = lines.shape[1]
    cycle = np.concatenate([np.arange(n), np.arange(n)[::-1]])  # one full mirror period
    return lines[:, cycle[np.arange(-half, n + half) % (2 * n)]]


def hpss(spectrogram: np.ndarray, kernel: int = 31, power: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Median-filtering harmonic/percussive separation (Fitzgerald 2010) with soft masks.

    ``spectrogram`` is complex or magnitude ``(F, T)``. Harmonic energy is smooth along time,
    percussive energy along frequency, so a median over time (resp. frequency) keeps one and
    suppresses the other; Wiener-like masks ``H^p / (H^p + P^p)`` then split the input.
    Returns ``(harmonic, percussive)`` with the input's dtype; they sum to the input. The
    medians run on a float32 copy of the magnitude (a median selects one of its inputs, so only
    the input's rounding changes; half the memory traffic of float64); masks are formed in float64.
    """
    magnitude = np.abs(spectrogram).astype(np.float32)
    harmonic_env = median_filter_1d(magnitude, kernel, axis=1)
    percussive_env = median_filter_1d(magnitude, kernel, axis=0)
    h, p = harmonic_env.astype(np.float64) ** power, percussive_env.astype(np.float64) ** power
    total = h + p
    tiny = np.finfo(np.float64).tiny
    harmonic_mask = np.where(total > tiny, h / np.maximum(total, tiny), 0.5)
    return spectrogram * harmonic_mask, spectrogram * (1.0 - harmonic_mask)
