"""The fixed evaluation list: target stems of the test tracks, each conditioned on all other stems.

Every test track long enough to score gives up to ``targets_per_track`` distinct target stems
(seeded); a cap on the number of examples drops later rounds, never whole tracks. Each example also names its mismatched partner, a stem of the SAME instrument class
from another song (any class, flagged, when no other song has one), which the mismatched-mix
reference plays, and a ``mismatch_example`` (an example of another track) whose mix serves as
the off-song context for the adherence margin. Each example is scored on consecutive segments
after a common lead-in of ``lead_frames`` latent frames, so every system, whatever its tau, is
scored on the same instants. The list is saved (``artifacts/eval/test_list.csv``) and read back.
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
    example: int                # id, the same for every system (contrasts are paired on it)
    track: str
    root: str
    target_stem: str
    inst_class: str
    class_id: int
    mix_stems: tuple[str, ...]
    partner_track: str          # the mismatched reference's stem: another song ...
    partner_stem: str
    partner_same_class: bool    # ... of the same instrument class (False: no song had one)
    mismatch_example: int       # an example of another track: its mix is the off-song context


def _eligible(index: pd.DataFrame, min_seconds: float) -> dict[str, pd.DataFrame]:
    tracks = {}
    for track, rows in index[index.split == "test"].groupby("track", sort=True):
        if len(rows) >= 2 and rows.duration_s.min() >= min_seconds:
            tracks[str(track)] = rows.sort_values("stem")
    return tracks


def build_test_list(index: pd.DataFrame, n_examples: int, min_seconds: float, seed: int,
                    targets_per_track: int = 1) -> list[EvalExample]:
    """Up to ``n_examples`` examples over the test tracks (sorted), ``targets_per_track`` each;
    ordered by round (every track's first target, then every track's second, ...)."""
    rng = np.random.default_rng(seed)
    tracks = _eligible(index, min_seconds)
    if len(tracks) < 2:
        raise LiveBandError(f"evaluation: fewer than 2 test tracks are {min_seconds:.1f} s long")
    rounds: list[list] = [[] for _ in range(targets_per_track)]   # round r: every track's r-th target
    for track, rows in tracks.items():
        picks = rng.choice(len(rows), size=min(targets_per_track, len(rows)), replace=False)
        for r, i in enumerate(picks):
            rounds[r].append((track, rows.iloc[int(i)]))
    chosen = [pick for r in rounds for pick in r][:n_examples]   # a cap keeps every track in the list
    examples = []
    for k, (track, target) in enumerate(chosen):
        partner_track, partner_stem, same = _partner(tracks, track, str(target.inst_class), rng)
        others = [j for j, (t, _) in enumerate(chosen) if t != track]
        examples.append(EvalExample(
            k, track, str(target.root), str(target.stem), str(target.inst_class), int(target.class_id),
            tuple(sorted(set(tracks[track].stem) - {target.stem})), partner_track, partner_stem, same,
            int(others[int(rng.integers(len(others)))]) if others else k))
    return examples


def _partner(tracks: dict[str, pd.DataFrame], track: str, inst_class: str,
             rng: np.random.Generator) -> tuple[str, str, bool]:
    """A stem of ``inst_class`` from another track (seeded), else any stem of another track."""
    rows = pd.concat([r for t, r in tracks.items() if t != track])
    same = rows[rows.inst_class == inst_class]
    pool = same if len(same) else rows
    row = pool.iloc[int(rng.integers(len(pool)))]
    return str(row.track), str(row.stem), bool(len(same))


def to_frame(examples: list[EvalExample]) -> pd.DataFrame:
    return pd.DataFrame([{**e.__dict__, "mix_stems": "+".join(e.mix_stems)} for e in examples])


def from_frame(df: pd.DataFrame) -> list[EvalExample]:
    return [EvalExample(int(r.example), str(r.track), str(r.root), str(r.target_stem), str(r.inst_class),
                        int(r.class_id), tuple(str(r.mix_stems).split("+")), str(r.partner_track),
                        str(r.partner_stem), bool(r.partner_same_class), int(r.mismatch_example))
            for r in df.itertuples()]


def _stem_path(root: str, track: str, stem: str) -> Path:
    return Path(root) / "test" / track / "stems" / f"{stem}.flac"


def load_stem(root: str, track: str, stem: str, sr: int, channels: int, seconds: float) -> np.ndarray:
    path = _stem_path(root, track, stem)
    audio, file_sr = read_audio(path)
    audio = to_channels(resample(audio, file_sr, sr), channels)
    n = int(round(seconds * sr))
    if audio.shape[-1] < n:
        raise LiveBandError(f"{path}: shorter than the {seconds:.1f} s evaluated")
    return audio[:, :n]


def load_example(ex: EvalExample, sr: int, channels: int, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(mix, target), each (C, T) of ``seconds`` from the start of the song."""
    target = load_stem(ex.root, ex.track, ex.target_stem, sr, channels, seconds)
    mix = sum(load_stem(ex.root, ex.track, s, sr, channels, seconds) for s in ex.mix_stems)
    return mix.astype(np.float32), target.astype(np.float32)


def load_partner(ex: EvalExample, sr: int, channels: int, seconds: float) -> np.ndarray:
    """The mismatched reference's stem (another song, same class where one exists), (C, T)."""
    return load_stem(ex.root, ex.partner_track, ex.partner_stem, sr, channels, seconds).astype(np.float32)
