"""Stage `autoencoder`: train the causal autoencoder (resumable), or adopt an external one.

Outputs: ``artifacts/autoencoder/model.pt`` and the training curve
``results/autoencoder/curve.csv``. The resumable training state lives in
``artifacts/checkpoints/autoencoder.pt`` (not a declared output, so neither Snakemake nor
DVC deletes it before a rerun: kill the stage and rerun it, and it continues).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from liveband.builders import autoencoder_config, load_autoencoder, save_model
from liveband.config import Params
from liveband.data.audio_crops import AudioCropSampler
from liveband.data.slakh import read_index
from liveband.models.autoencoder import count_parameters
from liveband.stages.runner import run_stage, training_args
from liveband.training.autoencoder import train_autoencoder
from liveband.training.compute import training_compute
from liveband.utils.atomic import write_text

log = logging.getLogger("liveband.autoencoder")
MODEL = Path("artifacts/autoencoder/model.pt")
CURVE = Path("results/autoencoder/curve.csv")
STATE = Path("artifacts/checkpoints/autoencoder.pt")


def run(params: Params, args: argparse.Namespace) -> None:
    cfg = autoencoder_config(params)
    ae = params.autoencoder
    compute = training_compute(params.compute, args.device)  # before any work: can this machine do it?
    if ae.checkpoint:
        if not compute.ranks.main:
            return
        model = load_autoencoder(ae.checkpoint, expect=cfg)
        write_text(CURVE, "step,loss\n")
        save_model(MODEL, "autoencoder", cfg, model, source=str(ae.checkpoint), train_seconds=0.0)
        log.info("adopted external autoencoder %s", ae.checkpoint)
        return
    index = read_index("artifacts/data/index.csv")
    crop = int(round(ae.train.crop_seconds * params.audio.sample_rate / params.audio.hop)) * params.audio.hop
    sampler = AudioCropSampler(index, "train", params.audio.sample_rate, params.audio.channels, crop,
                               ae.train.mix_probability, params.data.sampler.silence_db,
                               preload=ae.train.preload_audio)
    model, run_ = train_autoencoder(cfg, ae.train, sampler, STATE, CURVE, stop_after=args.stop_after,
                                    compute=compute)
    if not run_.finished:
        log.info("stopped at step %d of %d; rerun to continue", run_.step, ae.train.steps)
        return
    if not compute.ranks.main:  # under torchrun, rank 0 alone writes the stage's outputs
        return
    log.info("autoencoder: %d encoder + %d decoder parameters", count_parameters(model.encoder),
             count_parameters(model.decoder))
    save_model(MODEL, "autoencoder", cfg, model, step=run_.step, source="trained",
               train_seconds=run_.train_seconds, resumed_from=run_.resumed_from or 0)



def main(argv: list[str] | None = None) -> int:
    return run_stage("autoencoder", run, training_args(), argv)


if __name__ == "__main__":
    sys.exit(main())
