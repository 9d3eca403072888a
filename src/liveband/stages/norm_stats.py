"""Stage `norm_stats`: per-channel mean and std of the TRAINING latents (targets and mixes).

Output: ``artifacts/latents/stats.json``, read back with ``LatentStats.load``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from liveband.config import Params
from liveband.data.latent_norm import RunningMoments
from liveband.data.latent_store import LatentShard
from liveband.stages.runner import run_stage

log = logging.getLogger("liveband.norm_stats")


def compute_stats(shard: LatentShard):
    moments = RunningMoments(shard.latent_dim)
    moments.update(shard.target_latents())
    moments.update(shard.mix_latents())
    return moments.stats(), moments.n


def run(params: Params, args: argparse.Namespace) -> None:
    shard = LatentShard("artifacts/latents/train.pt")
    stats, n = compute_stats(shard)
    stats.save(Path("artifacts/latents/stats.json"), split="train", frames=n)
    log.info("stats over %d training frames: mean |mu| %.3f, std range %.3f-%.3f", n,
             float(stats.mean.abs().mean()), float(stats.std.min()), float(stats.std.max()))


def main(argv: list[str] | None = None) -> int:
    return run_stage("norm_stats", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
