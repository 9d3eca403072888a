"""Exponential moving average of the generator's weights (R3GAN / StyleGAN2-ADA style).

After each generator step ``step`` (0-based; ``step * batch_size`` samples were seen before it):

    half_life = min(half_life_samples, step * batch_size * rampup)     (rampup None: no ramp)
    beta      = 0.5 ** (batch_size / max(half_life, 1e-8))
    ema       <- beta * ema + (1 - beta) * G        (parameters; buffers are copied)

so the first step copies G and the average's memory grows with the run until it reaches
``half_life_samples``. The average is what the stage saves and what is evaluated; the raw
weights stay in the resumable training state beside it.
"""

from __future__ import annotations

import copy

import torch


def ema_beta(step: int, batch_size: int, half_life_samples: float, rampup: float | None) -> float:
    """The decay applied after generator step ``step`` (0-based)."""
    half_life = half_life_samples
    if rampup is not None:
        half_life = min(half_life, step * batch_size * rampup)
    return 0.5 ** (batch_size / max(half_life, 1e-8))


class ModelEMA:
    """A frozen copy of ``model`` that follows it; Stateful (``state_dict`` is the averaged model's)."""

    def __init__(self, model: torch.nn.Module, half_life_samples: float, rampup: float | None, batch_size: int):
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self.half_life_samples, self.rampup, self.batch_size = half_life_samples, rampup, batch_size

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> float:
        """Fold ``model``'s weights after generator step ``step`` into the average; returns beta."""
        beta = ema_beta(step, self.batch_size, self.half_life_samples, self.rampup)
        for avg, new in zip(self.module.parameters(), model.parameters(), strict=True):
            avg.mul_(beta).add_(new.detach(), alpha=1.0 - beta)
        for avg, new in zip(self.module.buffers(), model.buffers(), strict=True):
            avg.copy_(new)
        return beta

    def state_dict(self) -> dict:
        return self.module.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state)
