"""Stage `cocola_local`: train the COCOLA-architecture adherence model on the training split, with
hard negatives so it scores timing and not only "same song", and check it on the test split.

Inputs: ``artifacts/data/index.csv`` and ``artifacts/autoencoder/model.pt`` (augmented positives
pass through it, so decoder artefacts are not read as a mismatch). Outputs
``artifacts/metrics/cocola_local.pt`` and ``results/cocola_local.json``: pair accuracy (true pair
above a mismatched one, Wilson 95 % interval) and the score drop for the true stem shifted by
50 ms to 1 s, a same-class stem of another song, low-level noise and the codec, per mode (see
:mod:`liveband.metrics.adherence_check`). Its scores are the model's raw bilinear similarity, on
its own scale: they are named COCOLA-local and are not comparable to the released COCOLA's.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

from liveband.builders import load_autoencoder
from liveband.config import Params
from liveband.data.audio_io import read_audio, resample, to_channels
from liveband.data.slakh import read_index
from liveband.evaluation.degradations import codec_roundtrip
from liveband.evaluation.scoring import front_end
from liveband.metrics.adherence_check import CheckSong, check_scorer, probe_features
from liveband.metrics.cocola import MODES, CocolaLocalConfig, CocolaLocalScorer, save_cocola_local
from liveband.metrics.cocola_training import TrainingSong, gain_and_noise, train_cocola_local
from liveband.models.autoencoder import CausalAutoencoder
from liveband.stages.runner import run_stage
from liveband.utils.atomic import write_json

log = logging.getLogger("liveband.cocola_local")
AUTOENCODER = "artifacts/autoencoder/model.pt"
MODEL = "artifacts/metrics/cocola_local.pt"
REPORT = "results/cocola_local.json"


@dataclass(frozen=True)
class Song:
    """One track's stems, mono at the stage rate, cut to a common length."""

    name: str
    stems: list[np.ndarray]  # (1, T) each
    classes: list[str]

    def mix_without(self, target: int) -> np.ndarray:
        return sum(s for i, s in enumerate(self.stems) if i != target)


def read_song(name: str, rows: pd.DataFrame, sr: int) -> Song:
    stems = []
    for row in rows.itertuples():
        audio, file_sr = read_audio(f"{row.root}/{row.stem_path}")
        stems.append(to_channels(resample(audio, file_sr, sr), 1))
    n = min(s.shape[-1] for s in stems)
    return Song(name, [s[:, :n] for s in stems], list(rows.inst_class))


def split_tracks(index: pd.DataFrame, split: str, n_tracks: int) -> list[tuple[str, pd.DataFrame]]:
    """The first ``n_tracks`` tracks of a split (sorted) with at least two stems."""
    tracks = [(name, rows.reset_index(drop=True)) for name, rows in index[index.split == split].groupby("track", sort=True)
              if len(rows) >= 2]
    return tracks[:n_tracks]


def training_songs(index: pd.DataFrame, n_tracks: int, excerpt_seconds: float, sr: int,
                   autoencoder: CausalAutoencoder, rng: np.random.Generator) -> list[TrainingSong]:
    """Per training track: a random excerpt of (mix of the other stems, one random stem), and that
    stem through the autoencoder with a gain change and a noise floor, all after the front end."""
    songs = []
    excerpt = int(excerpt_seconds * sr)
    for name, rows in split_tracks(index, "train", n_tracks):
        song = read_song(name, rows, sr)
        target = int(rng.integers(len(song.stems)))
        start = int(rng.integers(0, max(0, song.stems[0].shape[-1] - excerpt) + 1))
        mix, stem = (x[:, start:start + excerpt] for x in (song.mix_without(target), song.stems[target]))
        coded = gain_and_noise(front_end(codec_roundtrip(autoencoder, stem), sr), rng)
        songs.append(TrainingSong(front_end(mix, sr), (front_end(stem, sr), coded), song.classes[target]))
    return songs


def check_songs(index: pd.DataFrame, n_tracks: int, sr: int, autoencoder: CausalAutoencoder,
                rng: np.random.Generator) -> list[CheckSong]:
    """Per test track: (mix of the other stems, a random stem, a same-class stem of another test
    track, the stem through the autoencoder). Targets are drawn among stems whose class occurs
    in another test track."""
    songs = [read_song(name, rows, sr) for name, rows in split_tracks(index, "test", n_tracks)]
    out = []
    for i, song in enumerate(songs):
        holders = {c: [j for j, other in enumerate(songs) if j != i and c in other.classes] for c in set(song.classes)}
        candidates = [k for k, c in enumerate(song.classes) if holders[c]]
        if not candidates:
            continue
        target = candidates[int(rng.integers(len(candidates)))]
        label = song.classes[target]
        other = songs[holders[label][int(rng.integers(len(holders[label])))]]
        same_class = other.stems[other.classes.index(label)]
        stem = song.stems[target]
        out.append(CheckSong(song.name, front_end(song.mix_without(target), sr), front_end(stem, sr),
                             front_end(same_class, sr), front_end(codec_roundtrip(autoencoder, stem), sr)))
    return out


def separation(check: dict) -> dict:
    """The summary tables read: per mode, true pairs above pairs with another song's stem."""
    out = {}
    for mode in MODES:
        m = check["modes"][mode]
        other = m["pair_accuracy"]["other_song"]
        out[mode] = {"matched_mean": m["aligned_mean"], "mismatched_mean": m["aligned_mean"] - m["drop"]["other_song"]["mean"],
                     "matched_above_mismatched": other["rate"], "ci95": other["ci95"], "n_pairs": other["n"]}
    return out


def run(params: Params, args: argparse.Namespace) -> None:
    local, sr = params.metrics.cocola.local, params.audio.sample_rate
    index = read_index("artifacts/data/index.csv")
    autoencoder = load_autoencoder(AUTOENCODER)
    rng = np.random.default_rng(local.seed)
    songs = training_songs(index, local.n_tracks, local.excerpt_seconds, sr, autoencoder, rng)
    log.info("training COCOLA-local on %d training tracks", len(songs))
    config = CocolaLocalConfig(batch_size=local.batch_size, seed=local.seed)
    model, history = train_cocola_local(songs, config, local.steps, log=lambda r: log.info("%s", r))
    save_cocola_local(MODEL, model, local.steps)
    feats, groups = probe_features(check_songs(index, local.test_tracks, sr, autoencoder, rng), local.chunks_per_track, rng)
    check = check_scorer(CocolaLocalScorer(model), feats, groups)
    result = {"name": "COCOLA-local", "scale": "raw bilinear similarity (not the released COCOLA's scale)",
              "train_tracks": len(songs), "steps": local.steps, "hard_negatives": list(config.hard_negatives),
              "final": history[-1] if history else None,
              "test_separation": separation(check), "test_check": check}
    write_json(REPORT, result)
    log.info("test separation: %s", result["test_separation"])


def main(argv: list[str] | None = None) -> int:
    return run_stage("cocola_local", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
