"""Reading and writing audio with one-line errors, and sample-rate / channel conversion."""

from __future__ import annotations

import os
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from liveband.errors import LiveBandError
from liveband.utils.atomic import atomic_path


def audio_info(path: str | os.PathLike) -> sf._SoundFileInfo:
    path = Path(path)
    if not path.is_file():
        raise LiveBandError(f"{path}: audio file not found")
    try:
        return sf.info(str(path))
    except Exception as exc:
        raise LiveBandError(f"{path}: not a readable audio file ({_short(exc)})") from None


def read_audio(
    path: str | os.PathLike,
    expected_sr: int | None = None,
    expected_channels: int | None = None,
) -> tuple[np.ndarray, int]:
    """Decode a whole file to float32 (C, T); errors name the file.

    A truncated or corrupt file, a wrong rate or channel count, or non-finite samples each
    raise LiveBandError. Decoding the whole file is what catches truncation in FLAC.
    """
    path = Path(path)
    info = audio_info(path)
    if expected_sr is not None and info.samplerate != expected_sr:
        raise LiveBandError(f"{path}: sample rate {info.samplerate} Hz, expected {expected_sr} Hz")
    if expected_channels is not None and info.channels != expected_channels:
        raise LiveBandError(f"{path}: {info.channels} channels, expected {expected_channels}")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:
        raise LiveBandError(f"{path}: corrupt or truncated audio ({_short(exc)})") from None
    if info.frames > 0 and data.shape[0] < info.frames:
        raise LiveBandError(f"{path}: truncated audio ({data.shape[0]} of {info.frames} frames)")
    if not np.isfinite(data).all():
        raise LiveBandError(f"{path}: contains NaN or inf samples")
    return np.ascontiguousarray(data.T), sr


def write_audio(path: str | os.PathLike, audio: np.ndarray, sr: int, subtype: str | None = None) -> None:
    """Write (C, T) or (T,) float audio atomically; format from the suffix (.flac, .wav)."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[None]
    if not np.isfinite(audio).all():
        raise LiveBandError(f"{path}: refusing to write NaN or inf samples")
    fmt = Path(path).suffix.lstrip(".").upper() or "WAV"
    with atomic_path(path) as tmp:
        sf.write(str(tmp), audio.T, sr, format=fmt, subtype=subtype or "PCM_16")


def resample(audio: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Polyphase resampling along the last axis (band-limited, no phase shift)."""
    if sr_from == sr_to:
        return audio
    g = gcd(sr_from, sr_to)
    return resample_poly(audio, sr_to // g, sr_from // g, axis=-1).astype(np.float32)


def to_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """(C, T) -> (channels, T): mono is duplicated, stereo downmixed by averaging."""
    if audio.shape[0] == channels:
        return audio
    if channels == 1:
        return audio.mean(axis=0, keepdims=True)
    if audio.shape[0] == 1:
        return np.repeat(audio, channels, axis=0)
    raise LiveBandError(f"cannot map {audio.shape[0]} channels to {channels}")


def load_for_model(path: str | os.PathLike, sr: int, channels: int) -> tuple[np.ndarray, list[str]]:
    """Any rate / channel count in, (channels, T) at ``sr`` out, with notes on what changed."""
    audio, file_sr = read_audio(path)
    notes = []
    if file_sr != sr:
        notes.append(f"resampled {file_sr} -> {sr} Hz")
        audio = resample(audio, file_sr, sr)
    if audio.shape[0] != channels:
        notes.append(f"{audio.shape[0]} -> {channels} channels")
        audio = to_channels(audio, channels)
    return audio, notes


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__
