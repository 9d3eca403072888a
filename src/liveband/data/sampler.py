"""Training examples (paper 5.1): one stem is the target; a random non-empty subset of the
other stems, summed, is the conditioning mix. Crops where the target or the mix is near
silent are skipped (public baseline: both above -60 dB for at least half the crop).
"""

from __future__ import annotations

import numpy as np


def sample_mix_subsets(n_stems: int, target: int, n_subsets: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """Up to ``n_subsets`` distinct non-empty subsets of the stems other than ``target``.

    Subsets are drawn uniformly among all non-empty subsets (each other stem is in or out
    with probability 1/2, empty draws rejected); fewer come back when fewer exist.
    """
    others = [i for i in range(n_stems) if i != target]
    if not others:
        return []
    n_possible = 2 ** len(others) - 1
    chosen: list[tuple[int, ...]] = []
    seen: set[tuple[int, ...]] = set()
    while len(chosen) < min(n_subsets, n_possible):
        mask = rng.random(len(others)) < 0.5
        subset = tuple(o for o, m in zip(others, mask) if m)
        if subset and subset not in seen:
            seen.add(subset)
            chosen.append(subset)
    return chosen


def frame_levels_db(audio: np.ndarray, hop: int) -> np.ndarray:
    """RMS level (dBFS) of each hop-sized frame of (C, T) audio -> (T // hop,)."""
    n = audio.shape[-1] // hop
    frames = audio[..., : n * hop].reshape(*audio.shape[:-1], n, hop)
    power = np.mean(frames.astype(np.float64) ** 2, axis=(-1,))
    if power.ndim > 1:
        power = power.mean(axis=0)
    return (10.0 * np.log10(power + 1e-12)).astype(np.float32)


def valid_crop_starts(target_db: np.ndarray, mix_db: np.ndarray, crop_frames: int,
                      silence_db: float = -60.0, min_active_fraction: float = 0.5) -> np.ndarray:
    """Start frames of crops where target and mix are each active for enough of the crop."""
    n = min(len(target_db), len(mix_db)) - crop_frames + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    kernel = np.ones(crop_frames)

    def active(levels):
        on = (levels[: n + crop_frames - 1] > silence_db).astype(np.float64)
        return np.convolve(on, kernel, mode="valid")[:n] / crop_frames

    ok = (active(target_db) >= min_active_fraction) & (active(mix_db) >= min_active_fraction)
    return np.flatnonzero(ok).astype(np.int64)
