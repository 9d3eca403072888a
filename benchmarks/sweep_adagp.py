"""Short AdaGP runs of the default-size GAN: how well the advantage settles on its target.

Trains tau01's default-profile generator and discriminator (params.yaml sizes, batch, lr,
warm-up, EMA) for ``--steps`` steps with a given initial weight and step size, on a small
beat-structured latent set built here (songs of 3 stems sharing a beat period of 5-12 frames,
each stem a few latent directions driven by its own rhythmic envelope; the mix is the sum of
the other stems) -- or on a real shard with ``--shard artifacts/latents/train.pt``.
Prints mean |advantage - target| over the second half (raw and 50-step running mean) and
writes the curve. Usage (one thread, in the background):
    OMP_NUM_THREADS=1 python benchmarks/sweep_adagp.py --weight 1 --step-size 0.01 --steps 500 --out /tmp/run
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pandas as pd
import torch

from liveband.builders import anticipation_frames, discriminator_config, generator_config
from liveband.config import load_params
from liveband.data.classes import N_CLASSES
from liveband.data.latent_store import CropSampler, LatentShard, save_shard
from liveband.reports.curves import advantage_tracking
from liveband.training.gan import GanSetup, train_gan


def beat_shard(path: Path, latent_dim: int, songs: int = 12, frames: int = 400, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    targets, classes, mixes, mix_target = [], [], [], []
    t = torch.arange(frames, dtype=torch.float32)
    for _ in range(songs):
        period = int(torch.randint(5, 13, (1,), generator=g))
        stems = []
        for _ in range(3):
            basis = torch.randn(latent_dim, 3, generator=g) / 3 ** 0.5
            onsets = (torch.rand(period, generator=g) < 0.4).float()        # a rhythm of the beat period
            env = onsets[(t.long() % period)] * torch.exp(-(t % 1))          # hits
            drone = torch.sin(2 * torch.pi * t / (period * 4) + torch.rand(1, generator=g) * 6.28)
            drive = torch.stack([env, drone, env.roll(1)])                    # (3, F)
            stems.append(basis @ drive + 0.1 * torch.randn(latent_dim, frames, generator=g))
        for k in range(3):
            targets.append(stems[k])
            classes.append(int(torch.randint(0, N_CLASSES - 1, (1,), generator=g)))
            mixes.append(sum(s for j, s in enumerate(stems) if j != k))
            mix_target.append(len(targets) - 1)
    db = [torch.full((frames,), -20.0)] * len(targets)
    save_shard(path, "train", targets, db, classes, mixes, db, mix_target, {"synthetic": "beat_shard"})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weight", type=float, required=True)
    ap.add_argument("--step-size", type=float, required=True)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--adapt-after", type=int, default=None)
    ap.add_argument("--shard", default=None)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    params = load_params("params.yaml")
    shard = Path(args.shard) if args.shard else out / "shard.pt"
    gcfg = generator_config(params, "tau01")
    if not shard.exists():
        beat_shard(shard, gcfg.latent_dim)
    tau = anticipation_frames(params, "tau01")
    train = params.gan.train
    gp = dataclasses.replace(train.gradient_penalty, step_size=args.step_size, adapt_after=args.adapt_after)
    train = dataclasses.replace(train, gradient_penalty=gp, steps=args.steps, snapshot_step=None,
                                checkpoint_every=args.steps)
    setup = GanSetup(gcfg, discriminator_config(params, "tau01"), tau, "adaptive", args.weight, args.steps)
    sampler = CropSampler(LatentShard(shard), gcfg.context_frames, tau)
    _, run = train_gan(setup, train, sampler, out / "state.pt", out / "curve.csv", desc=out.name)
    curve = pd.read_csv(out / "curve.csv")
    summary = {"weight": args.weight, "step_size": args.step_size, "steps": args.steps,
               "adapt_after": args.adapt_after, "seconds": run.train_seconds,
               "final_gp_weight": float(curve.gp_weight.iloc[-1]),
               **advantage_tracking(curve, gp.target_advantage)}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
