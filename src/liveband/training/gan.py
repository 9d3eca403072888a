"""LiveBand's adversarial training (paper 4.4-4.7): one parallel causal pass per step.

Each step draws aligned windows of T + tau latent frames, runs the generator once over
(noise, mix[0:T]) in parallel under the causal mask (no teacher forcing, no rollout), and
uses that output for both the discriminator step (detached) and the generator step. The
discriminator judges the accompaniment against the mix playing at the same time,
mix[tau:tau+T]. The penalty weight is AdaGP's (or fixed, for the ablation).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import torch

from liveband.data.latent_store import CropSampler
from liveband.errors import LiveBandError
from liveband.losses.adagp import AdaptiveGradientPenalty, FixedGradientPenalty
from liveband.losses.r3gan import R3GANObjective
from liveband.models.discriminator import Discriminator, DiscriminatorConfig
from liveband.models.generator import Generator, GeneratorConfig
from liveband.training.compute import CPU, Compute
from liveband.training.conditioning import drop_classes
from liveband.training.ema import ModelEMA
from liveband.training.run import GeneratorState, TrainingRun, set_lr, warmup_lr
from liveband.utils.checkpoint import load_checkpoint, save_checkpoint

log = logging.getLogger("liveband.gan")


def make_penalty(gp, mode: str, weight: float, warmup_steps: int = 0):
    """AdaGP or a fixed weight behind one interface (``.weight``, ``.update(advantage, step)``).
    AdaGP holds its initial weight for ``gp.adapt_after`` steps (null: the warm-up's)."""
    if mode == "fixed":
        return FixedGradientPenalty(weight)
    adapt_after = warmup_steps if gp.adapt_after is None else gp.adapt_after
    return AdaptiveGradientPenalty(weight, gp.target_advantage, gp.step_size, gp.min_weight, gp.max_weight,
                                   adapt_after=adapt_after)


def make_ema(G: Generator, train) -> ModelEMA | None:
    """The generator's weight average (``gan.train.ema``), or None when disabled."""
    if train.ema is None:
        return None
    return ModelEMA(G, train.ema.half_life_samples, train.ema.rampup, train.batch_size)


def grad_norm(module: torch.nn.Module) -> float:
    norms = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.stack(norms))) if norms else 0.0


@dataclasses.dataclass
class GanSetup:
    generator: GeneratorConfig
    discriminator: DiscriminatorConfig
    tau_frames: int
    gp_mode: str
    gp_weight: float
    steps: int


def snapshot_path(checkpoint_path: Path) -> Path:
    """Where the generator at ``snapshot_step`` is kept while training goes on (beside the
    resumable state, outside the stage's declared outputs)."""
    return checkpoint_path.with_name(checkpoint_path.stem + ".snapshot.pt")


def load_snapshot(checkpoint_path: Path, config: dict, step: int) -> dict:
    """The generator weights kept at ``step`` by a run with this ``config``; one-line error otherwise."""
    path = snapshot_path(checkpoint_path)
    payload = load_checkpoint(path, kind="gan_snapshot")
    if payload["config"] != config or int(payload["step"]) != step:
        raise LiveBandError(f"{path}: snapshot of another run (step {payload['step']}); delete it and retrain")
    return payload["model"]


def train_gan(setup: GanSetup, train, sampler: CropSampler, checkpoint_path: Path, curve_path: Path,
              stop_after: int | None = None, desc: str = "gan",
              compute: Compute = CPU) -> tuple[Generator, TrainingRun]:
    """Train (or resume) one variant; ``train`` is GanTrainParams. Returns the generator to
    save and evaluate, in eval mode, on ``compute.device``: the weight average with
    ``train.ema``, else the raw G (the raw weights stay in the resumable state either way).
    Crops, class dropout and noise are drawn on the CPU, then copied over. Under ``torchrun``
    (``compute.ranks``) each rank draws the global batch, trains on its slice, and averages the
    gradients of D and G and D's advantage (AdaGP) over ranks, so every replica stays equal.

    With ``train.snapshot_step`` below the run's length, that generator after that step is kept
    (:func:`load_snapshot`): a shorter run with the same settings and seed would end exactly there.
    """
    torch.manual_seed(train.seed)
    G, D = Generator(setup.generator), Discriminator(setup.discriminator)
    ema = make_ema(G, train)   # copied before compiling; follows G's device
    compute.prepare(G, D)
    if ema is not None:
        ema.module.to(compute.device)
    opt_g = torch.optim.Adam(G.parameters(), lr=train.lr, betas=tuple(train.betas), weight_decay=0.0)
    opt_d = torch.optim.Adam(D.parameters(), lr=train.lr, betas=tuple(train.betas), weight_decay=0.0)
    gp = train.gradient_penalty
    penalty = make_penalty(gp, setup.gp_mode, setup.gp_weight, train.warmup_steps)
    objective = R3GANObjective(D, penalty_interval=gp.penalty_interval,
                               penalised=D.forward if compute.compile else None)  # eager: double backward
    data_rng = torch.Generator().manual_seed(train.seed + 1)
    config = {"generator": dataclasses.asdict(setup.generator), "discriminator": dataclasses.asdict(setup.discriminator),
              "tau_frames": setup.tau_frames, "gp_mode": setup.gp_mode, "gp_weight": setup.gp_weight,
              "train": dataclasses.asdict(train) | {"steps": setup.steps}}
    ranks = compute.ranks
    run = TrainingRun("gan_training", config, checkpoint_path, curve_path, setup.steps, train.checkpoint_every,
                      desc=desc, stop_after=stop_after, main=ranks.main)
    run.attach(generator=G, discriminator=D, opt_g=opt_g, opt_d=opt_d, penalty=penalty, data=GeneratorState(data_rng))
    if ema is not None:
        run.attach(ema=ema)
    served = G if ema is None else ema.module   # what is saved and evaluated
    run.resume()
    T, tau, null = setup.generator.context_frames, setup.tau_frames, setup.generator.null_class
    G.train()
    D.train()
    for step in run.steps():
        t0 = time.perf_counter()
        for opt in (opt_g, opt_d):
            set_lr(opt, warmup_lr(step, train.lr, train.warmup_steps))
        mix, target, instrument = sampler.sample(train.batch_size, data_rng)   # (B, T+tau, D) x2, (B,)
        g_class = drop_classes(instrument, train.class_dropout_generator, null, data_rng)
        d_class = drop_classes(instrument, train.class_dropout_discriminator, null, data_rng)
        noise = torch.randn(mix.shape[0], T, setup.generator.noise_dim, generator=data_rng)
        mix, target, noise, g_class, d_class = compute.shard((mix, target, noise, g_class, d_class))
        with compute.autocast():
            fake = G(mix[:, :T], noise, g_class)                               # (B, T, D): frames tau..tau+T
        real = target[:, tau:tau + T]                                         # (B, T, D)
        d_mix = mix[:, tau:tau + T].transpose(1, 2)                           # (B, D, T) what plays meanwhile
        real_c, fake_c = real.transpose(1, 2), fake.transpose(1, 2)           # (B, D, T)

        with compute.autocast():
            d_loss, d_stats = objective.discriminator_step(real_c, fake_c, d_mix, d_class,
                                                           gamma=penalty.weight, step=step)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        ranks.average_gradients(D)
        d_grad = grad_norm(D)
        opt_d.step()
        weight_used = penalty.weight
        advantage = ranks.mean(d_stats["advantage"])   # every rank's AdaGP takes the same step
        penalty.update(advantage, step)

        with compute.autocast():
            g_loss, g_stats = objective.generator_step(real_c, fake_c, d_mix, d_class)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        ranks.average_gradients(G)
        g_grad = grad_norm(G)
        opt_g.step()
        if ema is not None:
            ema.update(G, step)

        stats = {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "advantage": float(advantage),
                 "gp_weight": weight_used, "d_grad_norm": d_grad, "g_grad_norm": g_grad,
                 "steps_per_s": 1.0 / max(time.perf_counter() - t0, 1e-9)}
        for key in ("r1", "r2"):
            if key in d_stats:
                stats[key] = float(d_stats[key])
        run.record(step, ranks.mean_stats(stats))
        if ranks.main and train.snapshot_step is not None and step + 1 == train.snapshot_step < setup.steps:
            save_checkpoint(snapshot_path(checkpoint_path), {"kind": "gan_snapshot", "config": config,
                                                             "step": step + 1, "model": served.state_dict()})
    return served.eval(), run
