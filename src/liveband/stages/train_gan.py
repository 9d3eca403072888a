"""Stage `train_gan --variant NAME`: train one LiveBand model of the tables (gan.variants).

Outputs: ``artifacts/gan/<variant>/generator.pt`` (a bundle with the autoencoder and the
latent stats, ready for ``liveband accompany``), ``results/gan/<variant>/curve.csv`` and
``results/figures/gan_<variant>.png`` (losses, and the AdaGP advantage against its target
with the penalty weight). The resumable state is ``artifacts/checkpoints/gan_<variant>.pt``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from liveband import builders
from liveband.config import Params
from liveband.data.latent_norm import LatentStats
from liveband.data.latent_store import CropSampler, LatentShard
from liveband.reports.plots import plot_curves
from liveband.stages.runner import run_stage, training_args
from liveband.training.gan import GanSetup, train_gan

log = logging.getLogger("liveband.train_gan")


def setup_for(params: Params, variant: str) -> GanSetup:
    v, train = builders.gan_variant(params, variant), params.gan.train
    return GanSetup(
        generator=builders.generator_config(params, variant),
        discriminator=builders.discriminator_config(params, variant),
        tau_frames=builders.anticipation_frames(params, variant),
        gp_mode=v.gp_mode or train.gradient_penalty.mode,
        gp_weight=v.gp_weight or train.gradient_penalty.weight,
        steps=v.steps or train.steps,
    )


def run(params: Params, args: argparse.Namespace) -> None:
    variant = args.variant
    setup = setup_for(params, variant)
    stats = LatentStats.load("artifacts/latents/stats.json")
    sampler = CropSampler(LatentShard("artifacts/latents/train.pt"), setup.generator.context_frames,
                          setup.tau_frames, params.data.sampler.silence_db,
                          params.data.sampler.min_active_fraction, stats=stats)
    log.info("variant %s: tau %d frames, %s GP, %d steps, sink %s, causal %s", variant, setup.tau_frames,
             setup.gp_mode, setup.steps, setup.generator.sink, setup.generator.causal)
    curve = Path(f"results/gan/{variant}/curve.csv")
    start = time.perf_counter()
    G, run_ = train_gan(setup, params.gan.train, sampler, Path(f"artifacts/checkpoints/gan_{variant}.pt"),
                        curve, stop_after=args.stop_after, desc=f"gan {variant}")
    if not run_.finished:
        log.info("stopped at step %d of %d; rerun to continue", run_.step, setup.steps)
        return
    builders.save_bundle(f"artifacts/gan/{variant}/generator.pt", "liveband", setup.generator, G,
                         "artifacts/autoencoder/model.pt", stats, setup.tau_frames, step=run_.step,
                         variant=variant, gp_mode=setup.gp_mode,
                         train_seconds=round(time.perf_counter() - start, 1))
    target = params.gan.train.gradient_penalty.target_advantage
    plot_curves(curve, ["d_loss", "g_loss", "advantage", "gp_weight"], f"results/figures/gan_{variant}.png",
                f"LiveBand {variant} ({setup.gp_mode} GP): losses, D advantage, penalty weight",
                hlines={"advantage": target} if setup.gp_mode == "adaptive" else None)



def main(argv: list[str] | None = None) -> int:
    return run_stage("train_gan", run, training_args("gan.variants"), argv)


if __name__ == "__main__":
    sys.exit(main())
