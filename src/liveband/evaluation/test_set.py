"""The fixed evaluation list: one target stem per test track, conditioned on all other stems.

Each example is scored on two consecutive segments starting after a common lead-in of
``lead_frames`` latent frames (the largest anticipation in the tables, 1 s = 11 frames), so
every system, whatever its tau, is scored on the same instants with at least that much mix
context. The mismatched reference pairs each target with the next example's mix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from liveband.data.audio_io import read_audio, resample, to_channels
from liveband.errors import LiveBandError


@dataclass(frozen=True)
class EvalExample:
    track: str
    root: str
    target_stem: str
    inst_class: str
    class_id: int
    mix_stems: tuple[str, ...]


def build_test_list(index: pd.DataFrame, n_examples: int, min_seconds: float, seed: int) -> list[EvalExample]:
    """Up to ``n_examples`` test tracks (sorted) long enough to score; one seeded target each."""
    rng = np.random.default_rng(seed)
    examples = []
    for track, rows in index[index.split == "test"].groupby("track", sort=True):
        if len(rows) < 2 or rows.duration_s.min() < min_seconds:
            continue
        target = rows.iloc[int(rng.integers(len(rows)))]
        examples.append(EvalExample(track, str(target.root), str(target.stem), str(target.inst_class),
                                    int(target.class_id), tuple(sorted(set(rows.stem) - {target.stem}))))
        if len(examples) == n_examples:
            break
    if len(examples) < 2:
        raise LiveBandError(f"evaluation: fewer than 2 test tracks are {min_seconds:.1f} s long")
    return examples


def to_frame(examples: list[EvalExample]) -> pd.DataFrame:
    return pd.DataFrame([{**e.__dict__, "mix_stems": "+".join(e.mix_stems)} for e in examples])


def from_frame(df: pd.DataFrame) -> list[EvalExample]:
    return [EvalExample(r.track, r.root, r.target_stem, r.inst_class, int(r.class_id), tuple(r.mix_stems.split("+")))
            for r in df.itertuples()]


def _stem_path(ex: EvalExample, stem: str) -> Path:
    split_dir = "test"
    return Path(ex.root) / split_dir / ex.track / "stems" / f"{stem}.flac"


def load_stem(ex: EvalExample, stem: str, sr: int, channels: int, seconds: float) -> np.ndarray:
    audio, file_sr = read_audio(_stem_path(ex, stem))
    audio = to_channels(resample(audio, file_sr, sr), channels)
    n = int(round(seconds * sr))
    if audio.shape[-1] < n:
        raise LiveBandError(f"{_stem_path(ex, stem)}: shorter than the {seconds:.1f} s evaluated")
    return audio[:, :n]


def load_example(ex: EvalExample, sr: int, channels: int, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(mix, target), each (C, T) of ``seconds`` from the start of the song."""
    target = load_stem(ex, ex.target_stem, sr, channels, seconds)
    mix = sum(load_stem(ex, s, sr, channels, seconds) for s in ex.mix_stems)
    return mix.astype(np.float32), target.astype(np.float32)
