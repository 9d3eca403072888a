"""Stage `cocola_local`: train the COCOLA-architecture adherence model on the training split,
and show it separates true (mix, own stem) pairs from mismatched ones on the test split.

Outputs ``artifacts/metrics/cocola_local.pt`` and ``results/cocola_local.json``. Its scores
are the model's raw bilinear similarity, on its own scale: they are named COCOLA-local and
are not comparable to the released COCOLA's numbers in the paper.
"""

from __future__ import annotations

import argparse
import logging
import sys

import numpy as np
import pandas as pd

from liveband.config import Params
from liveband.data.audio_io import read_audio, resample, to_channels
from liveband.data.slakh import read_index
from liveband.evaluation.scoring import EVAL_RATE, front_end
from liveband.metrics.cocola import (
    MODES,
    CocolaLocalConfig,
    CocolaLocalScorer,
    paired_chunk_features,
    save_cocola_local,
    train_cocola_local,
)
from liveband.stages.runner import run_stage
from liveband.utils.atomic import write_json

log = logging.getLogger("liveband.cocola_local")


def track_pair(rows: pd.DataFrame, target: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """(mix of the other stems, the target stem), mono, at the metrics front end."""
    stems = []
    for row in rows.itertuples():
        audio, file_sr = read_audio(f"{row.root}/{row.stem_path}")
        stems.append(to_channels(resample(audio, file_sr, sr), 1))
    n = min(s.shape[-1] for s in stems)
    stems = [s[:, :n] for s in stems]
    mix = sum(s for i, s in enumerate(stems) if i != target)
    return front_end(mix, sr), front_end(stems[target], sr)


def split_pairs(index: pd.DataFrame, split: str, n_tracks: int, sr: int, rng: np.random.Generator):
    pairs = []
    for _, rows in list(index[index.split == split].groupby("track", sort=True))[:n_tracks]:
        if len(rows) >= 2:
            pairs.append(track_pair(rows.reset_index(drop=True), int(rng.integers(len(rows))), sr))
    return pairs


def separation(scorer: CocolaLocalScorer, pairs) -> dict:
    """Matched (mix_i, stem_i) vs mismatched (mix_i, stem_{i+1}) scores per mode; each clip's
    chunk features are computed once (a mismatched pair scores the chunks both clips have)."""
    feats = [paired_chunk_features(m, s, EVAL_RATE) for m, s in pairs]
    matched = [scorer.score_features(mf, sf) for mf, sf in feats]
    shifted = [scorer.score_features(mf, feats[(i + 1) % len(feats)][1]) for i, (mf, _) in enumerate(feats)]
    out = {}
    for mode in MODES:
        a, b = np.array([x[mode] for x in matched]), np.array([x[mode] for x in shifted])
        out[mode] = {"matched_mean": float(a.mean()), "mismatched_mean": float(b.mean()),
                     "matched_above_mismatched": float((a > b).mean()), "n_pairs": len(pairs)}
    return out


def run(params: Params, args: argparse.Namespace) -> None:
    local, sr = params.metrics.cocola.local, params.audio.sample_rate
    index = read_index("artifacts/data/index.csv")
    rng = np.random.default_rng(local.seed)
    pairs = split_pairs(index, "train", local.n_tracks, sr, rng)
    log.info("training COCOLA-local on %d training tracks", len(pairs))
    config = CocolaLocalConfig(batch_size=local.batch_size, seed=local.seed)
    model, history = train_cocola_local(pairs, config, local.steps, log=lambda r: log.info("%s", r),
                                        device=args.device)
    save_cocola_local("artifacts/metrics/cocola_local.pt", model, local.steps)
    test_pairs = split_pairs(index, "test", 40, sr, rng)
    result = {"name": "COCOLA-local", "scale": "raw bilinear similarity (not the released COCOLA's scale)",
              "train_tracks": len(pairs), "steps": local.steps, "final": history[-1] if history else None,
              "test_separation": separation(CocolaLocalScorer(model), test_pairs)}
    write_json("results/cocola_local.json", result)
    log.info("test separation: %s", result["test_separation"])


def main(argv: list[str] | None = None) -> int:
    return run_stage("cocola_local", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
