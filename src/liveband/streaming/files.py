"""Accompanying a whole file through the streaming path, with timing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from liveband.builders import AccompanimentBundle
from liveband.data.audio_io import load_for_model, write_audio
from liveband.streaming.accompanist import Accompanist


@dataclass
class AccompanimentResult:
    audio: np.ndarray        # (C, T) aligned with the input: sample i plays with input sample i
    mix: np.ndarray          # (C, T) the input at the model's rate and channel count
    sample_rate: int
    wall_seconds: float
    notes: list[str]

    @property
    def real_time_factor(self) -> float:
        """Audio seconds produced per second of compute (> 1 is faster than real time)."""
        return (self.audio.shape[-1] / self.sample_rate) / max(self.wall_seconds, 1e-9)


def accompany_array(bundle: AccompanimentBundle, mix: np.ndarray, instrument: int, seed: int = 0,
                    chunk: int = 1024, **sampling) -> tuple[np.ndarray, float]:
    """Stream (C, T) mix audio through ``bundle`` in ``chunk``-sample pieces; -> ((C, T), seconds).

    The first tau frames of the result are silence (nothing is predicted for them), so the
    accompaniment lines up with the mix sample for sample.
    """
    out, seconds = accompany_batch(bundle, mix[None], [instrument], [seed], chunk, **sampling)
    return out[0], seconds


def accompany_batch(bundle: AccompanimentBundle, mixes: np.ndarray, instruments: list[int], seeds: list[int],
                    chunk: int = 1024, **sampling) -> tuple[np.ndarray, float]:
    """Stream B equal-length mixes ``(B, C, T)`` side by side through one batched
    :class:`Accompanist`; -> ``((B, C, T), seconds)``. Row b equals
    ``accompany_array(bundle, mixes[b], instruments[b], seeds[b])`` (up to float rounding):
    batching only shares the per-frame work, as an evaluation over many files wants.
    """
    acc = Accompanist(bundle, instruments, seed=seeds, **sampling)
    x = torch.from_numpy(np.ascontiguousarray(mixes, dtype=np.float32))                # (B, C, T)
    pieces = [torch.zeros(x.shape[0], acc.channels, acc.tau * acc.hop)]
    start = time.perf_counter()
    for i in range(0, x.shape[-1], chunk):
        pieces.append(acc.push(x[..., i:i + chunk]))
    seconds = time.perf_counter() - start
    out = torch.cat(pieces, dim=-1).numpy()
    n = mixes.shape[-1]
    if out.shape[-1] < n:
        out = np.pad(out, ((0, 0), (0, 0), (0, n - out.shape[-1])))
    return out[..., :n], seconds


def accompany_file(bundle: AccompanimentBundle, mix_path: str | Path, instrument: int, seed: int = 0,
                   **sampling) -> AccompanimentResult:
    sr, channels = bundle.autoencoder.cfg.sample_rate, bundle.autoencoder.cfg.channels
    mix, notes = load_for_model(mix_path, sr, channels)
    audio, seconds = accompany_array(bundle, mix, instrument, seed, **sampling)
    return AccompanimentResult(audio, mix, sr, seconds, notes)


def write_result(result: AccompanimentResult, out: str | Path, preview: str | Path | None = None) -> None:
    write_audio(out, result.audio, result.sample_rate)
    if preview is not None:  # left = input, right = generated
        stereo = np.stack([result.mix.mean(0), result.audio.mean(0)])
        peak = max(1.0, float(np.abs(stereo).max()))
        write_audio(preview, stereo / peak, result.sample_rate)
