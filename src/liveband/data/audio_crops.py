"""Random audio crops of stems or mixes for autoencoder training.

By default only the crop's window is decoded (soundfile seeks), so memory does not grow with
the data set: the same sampler serves the synthetic set and the full Slakh2100. A small set
can be decoded into memory once (``preload``): the same crops, without a FLAC seek per stem.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch
from tqdm import tqdm

from liveband.data.audio_io import resample, to_channels
from liveband.errors import LiveBandError


def _finish_window(data: np.ndarray, file_sr: int, seconds: float, sr: int) -> np.ndarray:
    """(C, m) samples read at ``file_sr`` -> (1, n) mono at ``sr``, zero-padded to the window."""
    data = resample(to_channels(data, 1), file_sr, sr)
    n = int(round(seconds * sr))
    if data.shape[1] < n:
        data = np.pad(data, ((0, 0), (0, n - data.shape[1])))
    return data[:, :n]


def _window_start(start_s: float, file_sr: int, frames: int) -> int:
    return min(int(start_s * file_sr), max(0, frames - 1))


def read_window(path: Path, start_s: float, seconds: float, sr: int) -> np.ndarray:
    """(1, n) mono window at ``sr`` from a Slakh FLAC, resampled if the file's rate differs."""
    try:
        with sf.SoundFile(str(path)) as f:
            f.seek(_window_start(start_s, f.samplerate, f.frames))
            data = f.read(int(round(seconds * f.samplerate)), dtype="float32", always_2d=True).T
            file_sr = f.samplerate
    except Exception as exc:
        raise LiveBandError(f"{path}: unreadable audio ({type(exc).__name__})") from None
    return _finish_window(data, file_sr, seconds, sr)


class DecodedStems:
    """Every stem of a split decoded once and kept in memory (16-bit files as int16, the rest as
    float32), so a crop is a slice instead of a FLAC seek. Windows equal :func:`read_window`'s
    sample for sample: soundfile's float32 reading of 16-bit audio is the integer / 32768.
    Memory is the split's length in samples x 2 bytes (the synthetic default: ~1.7 GB); the full
    Slakh2100 needs too much (``autoencoder.train.preload_audio: false`` reads from disk)."""

    def __init__(self, paths: list[Path]):
        self._audio: dict[Path, tuple[np.ndarray, int]] = {}
        for path in tqdm(paths, desc="decode stems", unit="stem", mininterval=2.0):
            try:
                with sf.SoundFile(str(path)) as f:
                    pcm16 = f.subtype == "PCM_16"
                    data = f.read(dtype="int16" if pcm16 else "float32", always_2d=True).T.copy()
                    self._audio[path] = (data, f.samplerate)
            except Exception as exc:
                raise LiveBandError(f"{path}: unreadable audio ({type(exc).__name__})") from None

    def window(self, path: Path, start_s: float, seconds: float, sr: int) -> np.ndarray:
        data, file_sr = self._audio[path]
        first = _window_start(start_s, file_sr, data.shape[1])
        piece = data[:, first:first + int(round(seconds * file_sr))]
        if piece.dtype == np.int16:
            piece = piece.astype(np.float32) * np.float32(1.0 / 32768.0)
        return _finish_window(piece, file_sr, seconds, sr)


class AudioCropSampler:
    """Crops of ``crop_samples`` from one split: a single stem, or a random mix of stems."""

    def __init__(self, index: pd.DataFrame, split: str, sample_rate: int, channels: int,
                 crop_samples: int, mix_probability: float, silence_db: float = -60.0,
                 preload: bool = False):
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
        self._read = read_window
        if preload:
            self._read = DecodedStems([root / s for root, stems, _ in self.tracks for s in stems]).window

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
            audio = sum(self._read(root / s, start, seconds, self.sr) for s in chosen)
            if 10 * np.log10(np.mean(audio**2) + 1e-12) > self.silence_db:
                return to_channels(audio, self.channels)
        return to_channels(audio, self.channels)

    def sample(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        """(B, C, crop_samples) float32."""
        return torch.from_numpy(np.stack([self._one(generator) for _ in range(batch)]))
