"""Training-loop throughput of the default-size GAN: lazy R1/R2 (every k steps) vs every step,
and the G step as trained (D frozen, D(real) without graph) vs the former G step (D's parameter
gradients computed and thrown away).

Prints steps/s for each setting in the same process, and their ratios. Random latents; the
maths per step is what the `train_gan` stage runs. Usage:
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_gan_step.py [--steps 30] [--interval 4]
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import torch

from liveband.builders import discriminator_config, generator_config
from liveband.config import load_params
from liveband.losses.r3gan import R3GANObjective, relativistic_generator_loss
from liveband.models.discriminator import Discriminator
from liveband.models.generator import Generator


def unfrozen_generator_step(objective: R3GANObjective, real, fake, *conditioning):
    """The G step before D was frozen in it: same loss, plus D's parameter gradients."""
    real_logits = objective.discriminator(real.detach(), *conditioning)
    return relativistic_generator_loss(real_logits, objective.discriminator(fake, *conditioning))


def steps_per_second(interval: int, steps: int, batch: int, params, frozen_d: bool = True) -> float:
    torch.manual_seed(0)
    gcfg, dcfg = generator_config(params, "tau01"), discriminator_config(params, "tau01")
    G, D = Generator(gcfg), Discriminator(dcfg)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.0, 0.99))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.0, 0.99))
    objective = R3GANObjective(D, penalty_interval=interval)
    T, Dl = gcfg.context_frames, gcfg.latent_dim
    times = []
    for step in range(steps):
        start = time.perf_counter()
        mix, real = torch.randn(batch, T, Dl), torch.randn(batch, T, Dl)
        cls = torch.randint(0, gcfg.n_classes, (batch,))
        fake = G(mix, G.sample_noise(batch, T), cls)
        d_loss, _ = objective.discriminator_step(real.transpose(1, 2), fake.transpose(1, 2), mix.transpose(1, 2),
                                                 cls, gamma=1.0, step=step)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_step = objective.generator_step if frozen_d else partial(unfrozen_generator_step, objective)
        g_loss, *_ = g_step(real.transpose(1, 2), fake.transpose(1, 2), mix.transpose(1, 2), cls)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        opt_d.zero_grad()
        times.append(time.perf_counter() - start)
    warm = times[2:]
    return len(warm) / sum(warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--interval", type=int, default=4, help="lazy interval to compare with 1")
    parser.add_argument("--profile", default="default")
    args = parser.parse_args()
    params = load_params("params.yaml", args.profile)
    batch = params.gan.train.batch_size
    lazy = steps_per_second(args.interval, args.steps, batch, params)
    every = steps_per_second(1, args.steps, batch, params)
    unfrozen = steps_per_second(args.interval, args.steps, batch, params, frozen_d=False)
    print(f"threads={torch.get_num_threads()} batch={batch} profile={args.profile}")
    print(f"lazy R1/R2 every {args.interval} steps: {lazy:.2f} steps/s")
    print(f"R1 + R2 every step:           {every:.2f} steps/s")
    print(f"ratio lazy / every step:      {lazy / every:.2f}")
    print(f"G step with D's parameter gradients (former): {unfrozen:.2f} steps/s")
    print(f"ratio frozen D / former:      {lazy / unfrozen:.2f}")


if __name__ == "__main__":
    main()
