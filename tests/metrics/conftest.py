"""Synthetic signals for the metric tests, offered as fixtures (tests run with importlib mode)."""

from __future__ import annotations

import numpy as np
import pytest


def _click_track(bpm: float, seconds: float, sr: int, offset: float = 0.5, seed: int = 0):
    """Decaying noise bursts at ``bpm`` starting at ``offset`` s; returns (audio, beat_times)."""
    rng = np.random.default_rng(seed)
    beats = np.arange(offset, seconds - 0.1, 60.0 / bpm)
    audio = np.zeros(int(seconds * sr), dtype=np.float32)
    n = int(0.03 * sr)
    burst = (rng.standard_normal(n) * np.exp(-np.arange(n) / (0.005 * sr))).astype(np.float32)
    for t in beats:
        i = int(round(t * sr))
        audio[i:i + n] += 0.5 * burst[: len(audio) - i]
    return audio, beats


def _sine(freq: float, seconds: float, sr: int, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def click_track():
    return _click_track


@pytest.fixture
def sine():
    return _sine
