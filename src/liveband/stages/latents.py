"""Stage `latents`: encode target stems and their conditioning mixes of the training splits.

Mixes are summed in the audio domain, then encoded (paper 5.1). For each target stem,
``latents.mixes_per_target`` random non-empty subsets of the other stems are pre-encoded,
so training never re-encodes audio. Outputs: ``artifacts/latents/{train,validation}.pt`` shards
and ``artifacts/latents/index.csv``. The test split is not encoded: nothing trains or
validates on it, and evaluation streams the test audio itself.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from liveband.builders import autoencoder_config, load_autoencoder
from liveband.config import Params
from liveband.data.audio_io import read_audio, resample, to_channels
from liveband.data.latent_store import save_shard
from liveband.data.sampler import frame_levels_db, sample_mix_subsets
from liveband.data.slakh import read_index
from liveband.stages.runner import run_stage
from liveband.utils.atomic import atomic_path

log = logging.getLogger("liveband.latents")
OUT = Path("artifacts/latents")
SPLITS = ("train", "validation")  # what the GAN, SMG and RVQ stages read


def load_track_stems(track: pd.DataFrame, sr: int, channels: int) -> np.ndarray:
    """(S, C, T) stems of one track at the profile's rate and channel count."""
    stems = []
    for row in track.itertuples():
        audio, file_sr = read_audio(Path(row.root) / row.stem_path)
        stems.append(to_channels(resample(audio, file_sr, sr), channels))
    n = min(s.shape[-1] for s in stems)
    return np.stack([s[..., :n] for s in stems])


@torch.inference_mode()
def encode(model, audio: np.ndarray, batch: int = 8) -> torch.Tensor:
    """(N, C, T) -> (N, D, F) on the CPU; computed on the model's device."""
    x, device = torch.from_numpy(audio), next(model.parameters()).device
    return torch.cat([model.encode(x[i:i + batch].to(device)).cpu() for i in range(0, len(x), batch)])


def run(params: Params, args: argparse.Namespace) -> None:
    model = load_autoencoder("artifacts/autoencoder/model.pt", expect=autoencoder_config(params)).to(args.device)
    index = read_index("artifacts/data/index.csv")
    sr, ch, hop = params.audio.sample_rate, params.audio.channels, params.audio.hop
    lat = params.latents
    rng = np.random.default_rng(lat.seed)
    rows = []
    for split in SPLITS:
        targets, target_db, target_class, mixes, mix_db, mix_target = [], [], [], [], [], []
        tracks = list(index[index.split == split].groupby("track", sort=True))
        for name, track in tqdm(tracks, desc=f"encode {split}", unit="track"):
            track = track.reset_index(drop=True)
            stems = load_track_stems(track, sr, ch)                  # (S, C, T)
            n_targets = len(track) if lat.targets_per_track is None else min(lat.targets_per_track, len(track))
            chosen = sorted(rng.choice(len(track), size=n_targets, replace=False).tolist())
            batch_audio, plan = [], []
            for t in chosen:
                subsets = sample_mix_subsets(len(track), t, lat.mixes_per_target, rng)
                if not subsets:
                    continue
                batch_audio.append(stems[t])
                plan.append(("target", t, None))
                for subset in subsets:
                    batch_audio.append(stems[list(subset)].sum(axis=0))
                    plan.append(("mix", t, subset))
            if not batch_audio:
                continue
            audio = np.stack(batch_audio)                            # (N, C, T)
            latents = encode(model, audio)                           # (N, D, F)
            frames = latents.shape[-1]
            for (kind, t, subset), a, z in zip(plan, audio, latents):
                levels = torch.from_numpy(frame_levels_db(a, hop)[:frames])
                if kind == "target":
                    target_id = len(targets)
                    targets.append(z)
                    target_db.append(levels)
                    target_class.append(int(track.class_id[t]))
                else:
                    rows.append({"split": split, "example": len(mixes), "track": name,
                                 "target_stem": track.stem[t], "inst_class": track.inst_class[t],
                                 "class_id": int(track.class_id[t]),
                                 "mix_stems": "+".join(track.stem[i] for i in subset), "frames": frames})
                    mixes.append(z)
                    mix_db.append(levels)
                    mix_target.append(target_id)
        save_shard(OUT / f"{split}.pt", split, targets, target_db, target_class, mixes, mix_db, mix_target,
                   {"latent_dim": model.cfg.latent_dim, "frame_rate": sr / hop})
        log.info("%s: %d targets, %d mixes", split, len(targets), len(mixes))
    with atomic_path(OUT / "index.csv") as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)


def main(argv: list[str] | None = None) -> int:
    return run_stage("latents", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
