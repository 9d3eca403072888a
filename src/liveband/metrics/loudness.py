"""Integrated loudness (ITU-R BS.1770-4, gated), loudness normalisation and resampling.

The public baseline loudness-normalises every clip to -18 LUFS and resamples it to 16 kHz
before computing any metric; :func:`prepare_for_metrics` does both in that order.

The K-weighting filter is built for any sample rate from its analog parameters (a high
shelf of about +4 dB above 1.68 kHz and a second-order high pass at 38 Hz, as derived by
Brecht De Man from the 48 kHz coefficients in the standard), so 16, 22.05, 44.1 and 48 kHz
audio are all measured without resampling first.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scipy import signal as sps

from liveband.errors import LiveBandError

EVAL_SAMPLE_RATE = 16_000  # Hz: the rate every metric backend receives (baseline protocol)
TARGET_LUFS = -18.0  # LUFS: the baseline's normalisation target

_BLOCK_SECONDS = 0.4  # gating block length (BS.1770)
_BLOCK_OVERLAP = 0.75  # 75 % overlap, i.e. a new block every 100 ms
_ABSOLUTE_GATE = -70.0  # LUFS
_RELATIVE_GATE = -10.0  # LU below the absolute-gated loudness
# Channel weights for up to 5 channels (L, R, C, Ls, Rs); LFE is not supported.
_CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)


def _k_weighting_sos(sample_rate: int) -> np.ndarray:
    """Second-order sections of the BS.1770 K-weighting filter at ``sample_rate``."""
    # Stage 1: high shelf modelling the acoustic effect of the head.
    gain_db, q, fc = 3.999843853973347, 0.7071752369554196, 1681.974450955533
    k = math.tan(math.pi * fc / sample_rate)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf_b = [(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    shelf_a = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    # Stage 2: the RLB high pass.
    q, fc = 0.5003270373238773, 38.13547087602444
    k = math.tan(math.pi * fc / sample_rate)
    a0 = 1.0 + k / q + k * k
    highpass_b = [1.0, -2.0, 1.0]
    highpass_a = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf_b + shelf_a, highpass_b + highpass_a])


def _as_channels(audio: np.ndarray) -> np.ndarray:
    """(T,) or (C, T) float audio as a float64 (C, T) array."""
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] > len(_CHANNEL_WEIGHTS):
        raise LiveBandError(f"loudness: expected (T,) or (C<=5, T) audio, got shape {x.shape}")
    return x


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """Gated integrated loudness in LUFS of (T,) or (C, T) audio; -inf for silence or < 400 ms."""
    x = _as_channels(audio)
    block = int(round(_BLOCK_SECONDS * sample_rate))
    step = int(round(_BLOCK_SECONDS * (1.0 - _BLOCK_OVERLAP) * sample_rate))
    if x.shape[1] < block:
        return float("-inf")
    weighted = sps.sosfilt(_k_weighting_sos(sample_rate), x, axis=-1)  # (C, T)
    # Mean square per channel and gating block, via a cumulative sum: (C, n_blocks).
    power = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(weighted**2, axis=-1)], axis=-1)
    starts = np.arange(0, x.shape[1] - block + 1, step)
    block_power = (power[:, starts + block] - power[:, starts]) / block
    weights = np.asarray(_CHANNEL_WEIGHTS[: x.shape[0]])[:, None]
    summed = (weights * block_power).sum(axis=0)  # (n_blocks,)
    with np.errstate(divide="ignore"):
        block_loudness = -0.691 + 10.0 * np.log10(summed)
    above_absolute = block_loudness > _ABSOLUTE_GATE
    if not above_absolute.any():
        return float("-inf")
    relative_gate = -0.691 + 10.0 * np.log10(summed[above_absolute].mean()) + _RELATIVE_GATE
    kept = above_absolute & (block_loudness > relative_gate)
    return float(-0.691 + 10.0 * np.log10(summed[kept].mean()))


def normalize_loudness(audio: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS) -> np.ndarray:
    """Scale ``audio`` so its integrated loudness is ``target_lufs``; silence is returned unchanged.

    Like the baseline, no limiter is applied: peaks may exceed 1.0 after the gain.
    """
    loudness = integrated_loudness(audio, sample_rate)
    x = np.asarray(audio, dtype=np.float32)
    if not np.isfinite(loudness):
        return x.copy()
    gain = 10.0 ** ((target_lufs - loudness) / 20.0)
    return (x * gain).astype(np.float32)


def resample(audio: np.ndarray, sample_rate: int, target_rate: int = EVAL_SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling along the last axis (scipy ``resample_poly``, Kaiser window)."""
    x = np.asarray(audio, dtype=np.float32)
    if int(sample_rate) == int(target_rate):
        return x.copy()
    ratio = Fraction(int(target_rate), int(sample_rate))
    return sps.resample_poly(x, ratio.numerator, ratio.denominator, axis=-1).astype(np.float32)


def prepare_for_metrics(audio: np.ndarray, sample_rate: int,
                        target_lufs: float = TARGET_LUFS,
                        target_rate: int = EVAL_SAMPLE_RATE) -> np.ndarray:
    """The baseline's evaluation front end: normalise to ``target_lufs``, then resample."""
    return resample(normalize_loudness(audio, sample_rate, target_lufs), sample_rate, target_rate)
