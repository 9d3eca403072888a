"""Controlled degradations of real audio, whose effect on a listener is known in advance.

Each takes and returns ``(C, T)`` float32 audio at the rate given; none changes the length.
They serve the metric validation (does a metric order clean above degraded?) and the
autoencoder report's low-pass reference.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.signal import butter, sosfilt

LOWPASS_ORDER = 8  # Butterworth order of :func:`lowpass`


def delay(audio: np.ndarray, start: int, stop: int, samples: int) -> np.ndarray:
    """Samples ``start:stop`` of ``audio`` played ``samples`` late (silence before the song starts)."""
    shifted = np.pad(audio, ((0, 0), (samples, 0)))[:, start:stop]
    return np.ascontiguousarray(shifted, dtype=np.float32)


def white_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``audio`` plus Gaussian white noise at ``snr_db`` below its mean power (over all channels)."""
    power = float(np.mean(np.square(audio, dtype=np.float64)))
    noise = rng.standard_normal(audio.shape) * np.sqrt(power * 10.0 ** (-snr_db / 10.0))
    return (audio + noise).astype(np.float32)


def lowpass(audio: np.ndarray, cutoff_hz: float, sr: int) -> np.ndarray:
    """Butterworth low-pass (order ``LOWPASS_ORDER``) along the last axis."""
    sos = butter(LOWPASS_ORDER, cutoff_hz, btype="low", fs=sr, output="sos")
    return sosfilt(sos, np.asarray(audio), axis=-1).astype(np.float32)


def reverse(audio: np.ndarray) -> np.ndarray:
    """Time reversal: the same spectrum statistics, no musical time."""
    return np.ascontiguousarray(audio[..., ::-1], dtype=np.float32)


@torch.inference_mode()
def codec_roundtrip(autoencoder, audio: np.ndarray, device: torch.device | str = "cpu") -> np.ndarray:
    """``audio`` encoded and decoded by the project's autoencoder (on ``device``, where it must
    live), zero-padded to its length."""
    x = torch.from_numpy(np.ascontiguousarray(audio))[None].to(device)
    out = autoencoder.decode(autoencoder.encode(x))[0].cpu().numpy()
    return np.pad(out, ((0, 0), (0, audio.shape[-1] - out.shape[-1])))
