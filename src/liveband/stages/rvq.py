"""Stage `rvq`: the baseline's tokeniser, a residual VQ over normalised target latents.

k-means initialisation on training frames, then EMA refinement. Reports the validation
reconstruction error with 1..K codebooks (normalised units: predicting the channel mean
scores 1.0). Outputs ``artifacts/rvq/model.pt`` and ``results/rvq.json``.
"""

from __future__ import annotations

import argparse
import logging
import sys

import torch
from tqdm import trange

from liveband.builders import rvq_config, save_model
from liveband.config import Params
from liveband.data.latent_norm import LatentStats
from liveband.data.latent_store import LatentShard
from liveband.models.rvq import ResidualVQ
from liveband.stages.runner import run_stage
from liveband.utils.atomic import write_json

log = logging.getLogger("liveband.rvq")


def target_frames(path: str, stats: LatentStats) -> torch.Tensor:
    """All target-stem latent frames of a split, normalised: (N, D)."""
    return stats.normalise(LatentShard(path).target_latents(), channel_dim=0).T.contiguous()


@torch.no_grad()
def reconstruction_errors(rvq: ResidualVQ, frames: torch.Tensor) -> dict[str, float]:
    x = frames[None]                                                   # (1, N, D)
    codes = rvq.encode(x)
    return {f"mse_{k}_codebooks": float(((rvq.decode(codes[..., :k], n_codebooks=k) - x) ** 2).mean())
            for k in range(1, rvq.config.n_codebooks + 1)}


def run(params: Params, args: argparse.Namespace) -> None:
    cfg, train = rvq_config(params), params.rvq.train
    stats = LatentStats.load("artifacts/latents/stats.json")
    frames = target_frames("artifacts/latents/train.pt", stats).to(args.device)
    g = torch.Generator().manual_seed(train.seed)  # draws on the CPU: the same picks on any device
    rvq = ResidualVQ(cfg).to(args.device)
    rvq.generator = g
    pick = torch.randperm(len(frames), generator=g)[: train.kmeans_frames]
    rvq.init_from_data(frames[pick], generator=g)
    rvq.train()
    for _ in trange(train.steps, desc="rvq EMA", unit="step"):
        batch = frames[torch.randint(len(frames), (train.batch_frames,), generator=g)]
        rvq(batch[None])
    rvq.eval()
    val = target_frames("artifacts/latents/validation.pt", stats).to(args.device)
    errors = reconstruction_errors(rvq, val)
    save_model("artifacts/rvq/model.pt", "rvq", cfg, rvq)
    write_json("results/rvq.json", {"split": "validation", "frames": len(val),
                                    "units": "normalised latent MSE (channel-mean predictor = 1.0)",
                                    "variance": float(val.var(dim=0).mean()), **errors})
    log.info("rvq validation errors: %s", errors)


def main(argv: list[str] | None = None) -> int:
    return run_stage("rvq", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
