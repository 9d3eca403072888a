"""The baseline's training: teacher-forced next-token cross-entropy over RVQ tokens.

Each step draws aligned windows of T + tau frames, tokenises the target stem's normalised
latents with the (frozen) RVQ, pairs mix frame t with accompaniment frame t + tau, and
trains the transformer with the ground-truth previous tokens as input (teacher forcing) —
the paradigm whose exposure bias LiveBand avoids.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import torch

from liveband.data.latent_store import CropSampler
from liveband.models.anticipation import anticipation_pairs
from liveband.models.rvq import ResidualVQ
from liveband.models.smg import SMG, SMGConfig
from liveband.training.compute import CPU, Compute
from liveband.training.conditioning import drop_classes
from liveband.training.run import GeneratorState, TrainingRun, set_lr, warmup_lr


def token_batch(rvq: ResidualVQ, sampler: CropSampler, batch: int, tau: int, g: torch.Generator,
                compute: Compute = CPU, shard: bool = False):
    """-> target codes (B, T, K) for frames tau..tau+T, mix (B, T, D) frames 0..T (both on the
    device), instrument (B,) on the CPU (class dropout draws there). With ``shard``, codes and
    mix are this rank's slice of the batch, the instrument still the whole batch's."""
    mix, target, instrument = sampler.sample(batch, g)          # (B, T+tau, D) x2
    mix, target = (compute.shard if shard else compute.batch)((mix, target))
    with torch.no_grad():
        codes = rvq.encode(target)                               # (B, T+tau, K)
    mix, target_codes = anticipation_pairs(mix, codes, tau)
    return target_codes, mix, instrument


@torch.no_grad()
def evaluate(model: SMG, rvq: ResidualVQ, sampler: CropSampler, batches: int, batch_size: int, seed: int,
             compute: Compute = CPU) -> dict:
    """Teacher-forced CE and token accuracy on held-out windows (fixed seed)."""
    model.eval()
    g = torch.Generator().manual_seed(seed)
    ce, acc = [], []
    for _ in range(batches):
        codes, mix, instrument = token_batch(rvq, sampler, batch_size, model.config.tau_frames, g, compute)
        with compute.autocast():
            c, a = model.loss(codes, mix, compute.batch(instrument))
        ce.append(float(c))
        acc.append(float(a))
    model.train()
    return {"cross_entropy": sum(ce) / len(ce), "token_accuracy": sum(acc) / len(acc)}


def train_smg(cfg: SMGConfig, train, rvq: ResidualVQ, sampler: CropSampler, checkpoint_path: Path,
              curve_path: Path, stop_after: int | None = None, desc: str = "smg",
              compute: Compute = CPU) -> tuple[SMG, TrainingRun]:
    """Train (or resume) one baseline on ``compute.device``; ``rvq`` is moved there too. Under
    ``torchrun`` (``compute.ranks``) each rank trains on its slice of the global batch and the
    gradients are averaged over ranks before clipping (:mod:`liveband.training.distributed`)."""
    torch.manual_seed(train.seed)
    model = SMG(cfg).train()
    compute.prepare(model)
    rvq.to(compute.device).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=train.lr, betas=tuple(train.betas), weight_decay=0.0)
    data_rng = torch.Generator().manual_seed(train.seed + 1)
    config = {"model": dataclasses.asdict(cfg), "train": dataclasses.asdict(train)}
    run = TrainingRun("smg_training", config, checkpoint_path, curve_path, train.steps, train.checkpoint_every,
                      desc=desc, stop_after=stop_after, main=compute.ranks.main)
    run.attach(model=model, optimizer=opt, data=GeneratorState(data_rng))
    run.resume()
    null = cfg.n_classes - 1
    for step in run.steps():
        t0 = time.perf_counter()
        set_lr(opt, warmup_lr(step, train.lr, train.warmup_steps))
        codes, mix, instrument = token_batch(rvq, sampler, train.batch_size, cfg.tau_frames, data_rng, compute,
                                             shard=True)
        instrument = compute.shard(drop_classes(instrument, train.class_dropout, null, data_rng))
        with compute.autocast():
            ce, accuracy = model.loss(codes, mix, instrument)
        opt.zero_grad(set_to_none=True)
        ce.backward()
        compute.ranks.average_gradients(model)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        run.record(step, compute.ranks.mean_stats(
            {"cross_entropy": ce.item(), "token_accuracy": float(accuracy), "grad_norm": float(norm),
             "steps_per_s": 1.0 / max(time.perf_counter() - t0, 1e-9)}))
    return model.eval(), run
