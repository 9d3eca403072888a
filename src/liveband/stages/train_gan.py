"""Stage `train_gan --variant NAME`: train one LiveBand model of the tables (gan.variants).

Outputs: ``artifacts/gan/<variant>/generator.pt`` and ``snapshot.pt`` (the generator at
``gan.train.snapshot_step``, the ablation length; bundles with the autoencoder and the
latent stats, ready for ``liveband accompany``), ``results/gan/<variant>/curve.csv`` and
``results/figures/gan_<variant>.png`` (losses, the D advantage against AdaGP's target, the
penalty weight). Both bundles hold the generator's weight average (``gan.train.ema``; the raw
weights with ``ema: null``) and, for AdaGP, mean |advantage - target| over the second half of
training (``liveband info`` shows it). The resumable state, raw weights included, is
``artifacts/checkpoints/gan_<variant>.pt``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

import pandas as pd

from liveband import builders
from liveband.config import Params
from liveband.data.latent_norm import LatentStats
from liveband.data.latent_store import CropSampler, LatentShard
from liveband.models.generator import Generator
from liveband.reports.curves import advantage_tracking
from liveband.reports.plots import plot_gan_training
from liveband.stages.runner import run_stage, training_args
from liveband.training.compute import training_compute
from liveband.training.gan import GanSetup, load_snapshot, train_gan

log = logging.getLogger("liveband.train_gan")


def train_params(params: Params, variant: str):
    """gan.train with the variant's seed (a training-seed replica) applied."""
    seed = builders.gan_variant(params, variant).seed
    return params.gan.train if seed is None else dataclasses.replace(params.gan.train, seed=seed)


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
    compute = training_compute(params.compute, args.device, flex=setup.generator.attn_backend == "flex")
    stats = LatentStats.load("artifacts/latents/stats.json")
    sampler = CropSampler(LatentShard("artifacts/latents/train.pt"), setup.generator.context_frames,
                          setup.tau_frames, params.data.sampler.silence_db,
                          params.data.sampler.min_active_fraction, stats=stats)
    if compute.preload:
        sampler.to(compute.device)
    log.info("variant %s: tau %d frames, %s GP, %d steps, sink %s, causal %s, %s", variant, setup.tau_frames,
             setup.gp_mode, setup.steps, setup.generator.sink, setup.generator.causal, compute.precision)
    curve = Path(f"results/gan/{variant}/curve.csv")
    train = train_params(params, variant)
    state = Path(f"artifacts/checkpoints/gan_{variant}.pt")
    G, run_ = train_gan(setup, train, sampler, state, curve, stop_after=args.stop_after, desc=f"gan {variant}",
                        compute=compute)
    if not run_.finished:
        log.info("stopped at step %d of %d; rerun to continue", run_.step, setup.steps)
        return
    if not compute.ranks.main:  # under torchrun, rank 0 alone writes the stage's outputs
        return
    target = train.gradient_penalty.target_advantage if setup.gp_mode == "adaptive" else None
    rows = pd.read_csv(curve)
    bundle = dict(autoencoder_path="artifacts/autoencoder/model.pt", stats=stats, tau_frames=setup.tau_frames,
                  variant=variant, gp_mode=setup.gp_mode, seed=train.seed, ema=train.ema is not None,
                  precision=compute.precision)
    final = tracking(rows, target, run_.step)
    builders.save_bundle(f"artifacts/gan/{variant}/generator.pt", "liveband", setup.generator, G, step=run_.step,
                         train_seconds=run_.train_seconds, **bundle, **final)
    save_snapshot(setup, train, G, run_, state, bundle, f"artifacts/gan/{variant}/snapshot.pt",
                  lambda step: tracking(rows, target, step))
    plot_gan_training(curve, f"results/figures/gan_{variant}.png",
                      f"LiveBand {variant} ({setup.gp_mode} GP): losses, D advantage, penalty weight", target, final)


def tracking(rows: pd.DataFrame, target: float | None, steps: int) -> dict:
    """AdaGP's mean |advantage - target| over the second half of the first ``steps`` steps
    (nothing for a fixed weight)."""
    return {} if target is None else advantage_tracking(rows[rows["step"] <= steps], target)


def save_snapshot(setup: GanSetup, train, G, run_, state: Path, bundle: dict, path: str,
                  tracking_at=lambda step: {}) -> None:
    """The generator at ``gan.train.snapshot_step`` as a bundle (the final one for shorter runs);
    like ``generator.pt``, the weight average when ``gan.train.ema`` is set."""
    step = min(train.snapshot_step or setup.steps, setup.steps)
    if step < setup.steps:
        G = Generator(setup.generator)
        G.load_state_dict(load_snapshot(state, run_.config, step))
        G.eval()
    builders.save_bundle(path, "liveband", setup.generator, G, step=step, **bundle, **tracking_at(step))


def main(argv: list[str] | None = None) -> int:
    return run_stage("train_gan", run, training_args("gan.variants"), argv)


if __name__ == "__main__":
    sys.exit(main())
