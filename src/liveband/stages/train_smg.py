"""Stage `train_smg --variant NAME`: train one baseline model (smg.variants: tau 0 and 1 s).

Outputs ``artifacts/smg/<variant>/smg.pt`` (a bundle with the RVQ, the autoencoder and the
latent stats, for ``liveband accompany``), ``results/smg/<variant>/curve.csv`` and
``results/smg/<variant>/metrics.json`` (validation token accuracy). Resumable state:
``artifacts/checkpoints/smg_<variant>.pt``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

from liveband import builders
from liveband.config import Params
from liveband.data.latent_norm import LatentStats
from liveband.data.latent_store import CropSampler, LatentShard
from liveband.models.rvq import ResidualVQ
from liveband.schema import from_dict
from liveband.stages.runner import run_stage, training_args
from liveband.training.compute import training_compute
from liveband.training.smg import evaluate, train_smg
from liveband.utils.atomic import write_json
from liveband.utils.checkpoint import load_checkpoint

log = logging.getLogger("liveband.train_smg")


def load_rvq(path: str) -> tuple[ResidualVQ, dict]:
    from liveband.models.rvq import RVQConfig

    payload = load_checkpoint(path, kind="rvq")
    rvq = ResidualVQ(from_dict(RVQConfig, payload["config"], "rvq.model"))
    rvq.load_state_dict(payload["model"])
    return rvq.eval(), payload


def run(params: Params, args: argparse.Namespace) -> None:
    variant = args.variant
    cfg = builders.smg_config(params, variant)
    compute = training_compute(params.compute, args.device)
    v = builders.smg_variant(params, variant)  # a seed replica and/or a longer (extended-scale) run
    train = dataclasses.replace(params.smg.train, **{k: x for k, x in (("seed", v.seed), ("steps", v.steps))
                                                     if x is not None})
    stats = LatentStats.load("artifacts/latents/stats.json")
    rvq, rvq_payload = load_rvq("artifacts/rvq/model.pt")
    sampler_args = (cfg.context_frames, cfg.tau_frames, params.data.sampler.silence_db,
                    params.data.sampler.min_active_fraction)
    sampler = CropSampler(LatentShard("artifacts/latents/train.pt"), *sampler_args, stats=stats)
    if compute.preload:
        sampler.to(compute.device)
    model, run_ = train_smg(cfg, train, rvq, sampler, Path(f"artifacts/checkpoints/smg_{variant}.pt"),
                            Path(f"results/smg/{variant}/curve.csv"), stop_after=args.stop_after,
                            desc=f"smg {variant}", compute=compute)
    if not run_.finished:
        log.info("stopped at step %d of %d; rerun to continue", run_.step, train.steps)
        return
    if not compute.ranks.main:  # under torchrun, rank 0 alone writes the stage's outputs
        return
    seconds = run_.train_seconds
    val = CropSampler(LatentShard("artifacts/latents/validation.pt"), *sampler_args, stats=stats)
    metrics = evaluate(model, rvq, val, train.validation_batches, train.batch_size, params.smg.train.seed + 99,
                       compute)
    write_json(f"results/smg/{variant}/metrics.json",
               {"variant": variant, "tau_frames": cfg.tau_frames, "split": "validation",
                "train_seconds": seconds, "steps": run_.step, "seed": train.seed, "precision": compute.precision,
                **metrics})
    builders.save_bundle(f"artifacts/smg/{variant}/smg.pt", "smg", cfg, model, "artifacts/autoencoder/model.pt",
                         stats, cfg.tau_frames, step=run_.step, variant=variant, train_seconds=seconds, seed=train.seed,
                         precision=compute.precision,
                         rvq={"config": rvq_payload["config"], "model": rvq_payload["model"]},
                         sampling=dataclasses.asdict(params.smg.sampling))
    log.info("smg %s validation: %s", variant, metrics)



def main(argv: list[str] | None = None) -> int:
    return run_stage("train_smg", run, training_args("smg.variants"), argv)


if __name__ == "__main__":
    sys.exit(main())
