"""Audio of the listening test's stimuli: excerpt choice, fades, the one loudness rule, the
adherence mix and the quality anchor (docs/LISTENING.md states every rule)."""

from __future__ import annotations

import numpy as np
import torch

from liveband.data.sampler import frame_levels_db, valid_crop_starts
from liveband.metrics.loudness import integrated_loudness, normalize_loudness


def excerpt_start(target: np.ndarray, mix: np.ndarray, hop: int, excerpt: int, lead: int,
                  silence_db: float, min_active_fraction: float, rng: np.random.Generator) -> int:
    """A start sample (a multiple of ``hop``, >= ``lead``) where ``target`` and ``mix`` are each
    active for enough of the excerpt (the training sampler's rule, ``data.sampler``); the
    least-silent start if none qualifies. Audio (C, T); the excerpt must fit in T."""
    frames, first = excerpt // hop, -(-lead // hop)
    t_db, m_db = frame_levels_db(target, hop), frame_levels_db(mix, hop)
    starts = valid_crop_starts(t_db, m_db, frames, silence_db, min_active_fraction)
    last = (target.shape[-1] - excerpt) // hop
    starts = starts[(starts >= first) & (starts <= last)]
    if len(starts):
        return int(rng.choice(starts)) * hop
    active = np.convolve((t_db > silence_db).astype(float), np.ones(frames), mode="valid")[first:last + 1]
    return (first + int(np.argmax(active))) * hop


def fade(audio: np.ndarray, sample_rate: int, seconds: float) -> np.ndarray:
    """Raised-cosine fade in and out of ``seconds`` each."""
    n = min(int(round(seconds * sample_rate)), audio.shape[-1] // 2)
    out = np.array(audio, dtype=np.float32)
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)).astype(np.float32)
        out[..., :n] *= ramp
        out[..., -n:] *= ramp[::-1]
    return out


def loudness_rule(audio: np.ndarray, sample_rate: int, lufs: float, peak_dbfs: float) -> tuple[np.ndarray, bool]:
    """Normalise to ``lufs`` integrated loudness (BS.1770), then turn down if a sample peak
    exceeds ``peak_dbfs``; -> (audio, whether the peak cap lowered it). Silence stays silence."""
    x = normalize_loudness(audio, sample_rate, lufs)
    peak = float(np.abs(x).max(initial=0.0))
    cap = 10.0 ** (peak_dbfs / 20.0)
    if peak > cap:
        return (x * (cap / peak)).astype(np.float32), True
    return x, False


def adherence_mix(stem: np.ndarray, mix: np.ndarray, n_stems: int, sample_rate: int, offset_db: float) -> np.ndarray:
    """Stem + mix with the stem at ``L_mix - 10 log10(n_stems) + offset_db`` (the baseline's
    listening-study rule); the sum is normalised afterwards by :func:`loudness_rule`."""
    l_mix, l_stem = integrated_loudness(mix, sample_rate), integrated_loudness(stem, sample_rate)
    if not (np.isfinite(l_mix) and np.isfinite(l_stem)):
        return (mix + stem).astype(np.float32)
    gain = 10.0 ** ((l_mix - 10.0 * np.log10(n_stems) + offset_db - l_stem) / 20.0)
    return (mix + gain * stem).astype(np.float32)


@torch.inference_mode()
def noisy_anchor(autoencoder, stem: np.ndarray, level: float, seed: int) -> np.ndarray:
    """The quality anchor: encode the real stem, add Gaussian noise to the latents whose SD ramps
    linearly from 0 to ``level`` x each latent channel's SD over the clip, decode. (C, T) -> (C, T)."""
    z = autoencoder.encode(torch.from_numpy(np.ascontiguousarray(stem, dtype=np.float32))[None])  # (1, D, F)
    ramp = torch.linspace(0.0, 1.0, z.shape[-1])
    scale = z.std(dim=-1, keepdim=True).clamp_min(1e-3)
    g = torch.Generator().manual_seed(seed)
    noisy = z + level * ramp * scale * torch.randn(z.shape, generator=g)
    audio = autoencoder.decode(noisy)[0].numpy()
    return np.pad(audio, ((0, 0), (0, max(0, stem.shape[-1] - audio.shape[-1]))))[..., :stem.shape[-1]]
