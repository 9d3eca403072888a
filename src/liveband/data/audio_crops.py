"""Random audio crops of stems or mixes for autoencoder training, read straight from FLAC.

Only the crop's window is decoded (soundfile seeks), so memory does not grow with the data
set: the same sampler serves the synthetic set and the full Slakh2100.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch

from liveband.data.audio_io import resample, to_channels
from liveband.errors import LiveBandError


def read_window(path: Path, start_s: float, seconds: float, sr: int) -> np.ndarray:
    """(1, n) mono window at ``sr`` from a Slakh FLAC, resampled if the file's rate differs."""
    try:
        with sf.SoundFile(str(path)) as f:
            f.seek(min(int(start_s * f.samplerate), max(0, f.frames - 1)))
            data = f.read(int(round(seconds * f.samplerate)), dtype="float32", always_2d=True).T
            file_sr = f.samplerate
    except Exception as exc:
        raise LiveBandError(f"{path}: unreadable audio ({type(exc).__name__})") from None
    data = to_channels(data, 1)
    data = resample(data, file_sr, sr)
    n = int(round(seconds * sr))
    if data.shape[1] < n:
        data = np.pad(data, ((0, 0), (0, n - data.shape[1])))
    return data[:, :n]


class AudioCropSampler:
    """Crops of ``crop_samples`` from one split: a single stem, or a random mix of stems."""

    def __init__(self, index: pd.DataFrame, split: str, sample_rate: int, channels: int,
                 crop_samples: int, mix_probability: float, silence_db: float = -60.0):
        rows = index[index.split == split]
        if rows.empty:
            raise LiveBandError(f"index: no stems in split '{split}'")
        self.tracks = [
            (Path(g.root.iloc[0]), list(g.stem_path), float(g.duration_s.min()))
            for _, g in rows.groupby("track", sort=True)
        ]
        self.sr, self.channels, self.crop = sample_rate, channels, crop_samples
        self.mix_probability, self.silence_db = mix_probability, silence_db
        if all(d * sample_rate < crop_samples for _, _, d in self.tracks):
            raise LiveBandError(f"index: every {split} track is shorter than one crop")

    def _one(self, g: torch.Generator) -> np.ndarray:
        for _ in range(20):  # redraw near-silent crops
            root, stems, duration = self.tracks[int(torch.randint(len(self.tracks), (1,), generator=g))]
            seconds = self.crop / self.sr
            if duration < seconds:
                continue
            start = float(torch.rand(1, generator=g)) * (duration - seconds)
            if float(torch.rand(1, generator=g)) < self.mix_probability and len(stems) > 1:
                keep = torch.rand(len(stems), generator=g) < 0.5
                chosen = [s for s, k in zip(stems, keep.tolist()) if k] or [stems[0]]
            else:
                chosen = [stems[int(torch.randint(len(stems), (1,), generator=g))]]
            audio = sum(read_window(root / s, start, seconds, self.sr) for s in chosen)
            if 10 * np.log10(np.mean(audio**2) + 1e-12) > self.silence_db:
                return to_channels(audio, self.channels)
        return to_channels(audio, self.channels)

    def sample(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        """(B, C, crop_samples) float32."""
        return torch.from_numpy(np.stack([self._one(generator) for _ in range(batch)]))
