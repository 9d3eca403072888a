"""Does an adherence scorer measure fit and timing? Probes on real (mix, stem) songs.

Each song gives ``chunks_per_song`` 5 s chunks (evenly spaced, far enough from the ends for the
largest shift). For each chunk the mix is scored against:

- ``aligned``: its own stem (the true pair);
- ``shift <d> s``: its own stem moved by d seconds in a random direction (real audio of the
  stem from d seconds earlier or later, not a shifted feature map);
- ``same_class``: a stem of the same instrument class from another song, same position;
- ``other_song``: the next song's stem chunk (COCOLA's usual mismatched pair);
- ``noise <L> dBFS``: its own stem plus white noise at L dBFS RMS (a score should barely move);
- ``codec``: its own stem through the autoencoder, when given (likewise).

Every chunk's features are computed from its own audio exactly as evaluation does
(:func:`hpss_log_mel`). Reported per mode: pair accuracy (true pair above a mismatched one,
Wilson interval over pairs) and, per probe, the mean score drop from the true pair with a t
interval over songs (the chunks of one song are not independent), plus how often the true pair
stays above the probe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from liveband.errors import LiveBandError
from liveband.metrics.cocola import CHUNK_SECONDS, MODES, SAMPLE_RATE, AdherenceScorer, hpss_log_mel
from liveband.metrics.intervals import clustered_mean, rate_summary

SHIFTS_SECONDS = (0.05, 0.1, 0.25, 1.0)
MISMATCHED = ("other_song", "same_class")


@dataclass(frozen=True)
class CheckSong:
    """A test song, mono 16 kHz after the metrics front end; ``mix`` and ``stem`` aligned."""

    name: str
    mix: np.ndarray
    stem: np.ndarray
    same_class: np.ndarray  # a same-class stem of another song
    codec: np.ndarray | None = None  # ``stem`` through the autoencoder (same timing), if checked


def probe_features(songs: list[CheckSong], chunks_per_song: int, rng: np.random.Generator,
                   shifts: tuple[float, ...] = SHIFTS_SECONDS, noise_dbfs: float = -40.0
                   ) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    """``({probe: (N, 2, 64, 501) features}, song index of each of the N chunks)``; probe
    ``mix`` holds the mix chunks, the others the stems each is scored against."""
    if len(songs) < 2:
        raise LiveBandError(f"adherence check: need at least 2 songs, got {len(songs)}")
    chunk, margin = int(CHUNK_SECONDS * SAMPLE_RATE), int(round(max(shifts, default=0.0) * SAMPLE_RATE))
    feats: dict[str, list[np.ndarray]] = {}
    groups = []

    def add(probe: str, audio: np.ndarray, start: int) -> None:
        piece = audio[max(0, start):start + chunk]
        feats.setdefault(probe, []).append(hpss_log_mel(np.pad(piece, (0, chunk - len(piece)))))

    for i, song in enumerate(songs):
        n = min(len(song.mix), len(song.stem))
        if n < chunk + 2 * margin:
            raise LiveBandError(f"adherence check: song {song.name} is shorter than {(chunk + 2 * margin) / SAMPLE_RATE:g} s")
        for start in np.linspace(margin, n - chunk - margin, chunks_per_song).astype(int):
            groups.append(i)
            add("mix", song.mix, start)
            add("aligned", song.stem, start)
            for seconds in shifts:
                add(f"shift {seconds:g} s", song.stem, start + int(rng.choice([-1, 1])) * int(round(seconds * SAMPLE_RATE)))
            add("same_class", song.same_class, min(start, max(0, len(song.same_class) - chunk)))
            noisy = song.stem[start:start + chunk] + 10 ** (noise_dbfs / 20) * rng.standard_normal(chunk)
            add(f"noise {noise_dbfs:g} dBFS", noisy.astype(np.float32), 0)
            if song.codec is not None:
                add("codec", song.codec, start)
    out = {k: torch.from_numpy(np.stack(v)) for k, v in feats.items()}
    if "codec" in out and len(out["codec"]) != len(groups):
        raise LiveBandError("adherence check: give a codec version of every song or of none")
    out["other_song"] = out["aligned"].roll(-chunks_per_song, dims=0)  # the next song's chunk
    return out, np.array(groups)


def check_scorer(scorer: AdherenceScorer, feats: dict[str, torch.Tensor], groups: np.ndarray,
                 batch: int = 32) -> dict:
    """Per mode: the true pairs' mean score, pair accuracy against each mismatched kind, and per
    probe the score drop (true minus probe) and how often the true pair stays above it."""
    probes = [k for k in feats if k != "mix"]
    out = {"n_pairs": len(groups), "n_songs": len(np.unique(groups)), "modes": {}}
    for mode in MODES:
        with torch.inference_mode():
            scores = {k: torch.cat([scorer.pair_scores(feats["mix"][i:i + batch], feats[k][i:i + batch], mode)
                                    for i in range(0, len(groups), batch)]).double().numpy() for k in probes}
        true = scores["aligned"]
        out["modes"][mode] = {
            "aligned_mean": float(true.mean()),
            "pair_accuracy": {k: rate_summary(true > scores[k]) for k in MISMATCHED},
            "drop": {k: {**clustered_mean(true - scores[k], groups), "aligned_above": rate_summary(true > scores[k])}
                     for k in probes if k != "aligned"},
        }
    return out
