"""R3GAN objective: relativistic pairing loss plus zero-centred gradient penalties (paper, sec. 3.3).

Framework-free: functions take logits / inputs and return ``(loss, stats)`` where ``stats`` maps
names to detached 0-dim tensors (call ``.item()`` when logging). Optimisers, AMP and logging stay
in the training loop.

Penalty convention: for a batch ``x`` of shape (B, C, T) (or any (B, ...)),
``penalty = gamma / 2 * mean_b sum_{c,t} (dD(x_b) / dx_{b,c,t})^2``: the squared L2 norm of the
gradient is summed over every non-batch dim and averaged over the batch. R1 uses real samples,
R2 generated ones. Gradients are taken w.r.t. the accompaniment only; the mix is conditioning.

Lazy regularisation (paper, sec. 4.7): with interval ``k > 1`` the penalty is applied on D steps
``0, k, 2k, ...``, alternating R1, R2, R1, ... between successive application steps and scaled by
``k``; so each of R1 and R2 fires every ``2k`` steps. With ``k = 1`` both are applied every step
(plain R3GAN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import torch
import torch.nn.functional as F

from liveband.errors import LiveBandError

Stats = dict[str, torch.Tensor]


def relativistic_discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> tuple[torch.Tensor, Stats]:
    """``mean softplus(-(D(real) - D(fake)))`` over paired samples (B,), and the D advantage."""
    margin = real_logits - fake_logits  # (B,)
    loss = F.softplus(-margin).mean()
    return loss, {"d_adversarial": loss.detach(), "advantage": margin.detach().mean()}


def relativistic_generator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> tuple[torch.Tensor, Stats]:
    """``mean softplus(-(D(fake) - D(real)))`` over paired samples (B,)."""
    loss = F.softplus(-(fake_logits - real_logits)).mean()
    return loss, {"g_adversarial": loss.detach()}


def gradient_penalty(
    logits: torch.Tensor, inputs: torch.Tensor, gamma: float
) -> tuple[torch.Tensor, Stats]:
    """Zero-centred penalty ``gamma / 2 * mean_b ||dD/dx_b||^2`` (R1 on reals, R2 on fakes).

    ``inputs`` (B, ...) must require grad and ``logits`` (B,) must come from it; each logit depends
    only on its own sample, so the gradient of ``logits.sum()`` holds the per-sample gradients.
    """
    if not inputs.requires_grad:
        raise LiveBandError("gradient penalty: inputs must require grad (call requires_grad_())")
    (grad,) = torch.autograd.grad(logits.sum(), inputs, create_graph=True)
    squared_norm = grad.square().flatten(1).sum(dim=1)  # (B,)
    penalty = 0.5 * gamma * squared_norm.mean()
    return penalty, {"grad_norm_sq": squared_norm.detach().mean()}


class PenaltyPlan(NamedTuple):
    """Which penalties a D step applies and the factor they are multiplied by."""

    r1: bool
    r2: bool
    scale: float


def lazy_penalty_plan(step: int, interval: int) -> PenaltyPlan:
    """Penalty plan for 0-based D step ``step`` with lazy interval ``interval`` (module doc)."""
    if interval < 1:
        raise LiveBandError(f"gradient penalty interval: must be >= 1, got {interval}")
    if interval == 1:
        return PenaltyPlan(r1=True, r2=True, scale=1.0)
    if step % interval:
        return PenaltyPlan(r1=False, r2=False, scale=0.0)
    real_turn = (step // interval) % 2 == 0
    return PenaltyPlan(r1=real_turn, r2=not real_turn, scale=float(interval))


@contextmanager
def frozen(module: Callable[..., torch.Tensor]) -> Iterator[None]:
    """Parameters of ``module`` (an ``nn.Module``; other callables pass through) do not require
    grad inside the block, so graphs built there carry no parameter-gradient work for it; the
    previous flags are restored on exit."""
    params = list(module.parameters()) if isinstance(module, torch.nn.Module) else []
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)


class R3GANObjective:
    """One D step and one G step of R3GAN around a discriminator ``D(x, *conditioning) -> (B,)``.

    Owns no optimiser. The G step neither computes nor leaves gradients on D's parameters (D is
    frozen while its graph is built, and D(real) is evaluated without one).
    """

    def __init__(self, discriminator: Callable[..., torch.Tensor], penalty_interval: int = 1,
                 penalised: Callable[..., torch.Tensor] | None = None):
        lazy_penalty_plan(0, penalty_interval)  # validates the interval
        self.discriminator = discriminator
        # D on an input a penalty differentiates twice: a torch.compile'd D passes its eager
        # forward here (double backward through compiled graphs is not supported by every torch)
        self.penalised = penalised or discriminator
        self.penalty_interval = penalty_interval

    def discriminator_step(
        self, real: torch.Tensor, fake: torch.Tensor, *conditioning, gamma: float, step: int
    ) -> tuple[torch.Tensor, Stats]:
        """D loss on a real/generated pair batch (B, C, T); ``fake`` is detached here."""
        plan = lazy_penalty_plan(step, self.penalty_interval)
        real = real.detach().requires_grad_(plan.r1)
        fake = fake.detach().requires_grad_(plan.r2)
        real_logits = (self.penalised if plan.r1 else self.discriminator)(real, *conditioning)  # (B,)
        fake_logits = (self.penalised if plan.r2 else self.discriminator)(fake, *conditioning)  # (B,)
        loss, stats = relativistic_discriminator_loss(real_logits, fake_logits)
        for name, active, logits, inputs in (
            ("r1", plan.r1, real_logits, real),
            ("r2", plan.r2, fake_logits, fake),
        ):
            if active:
                penalty, penalty_stats = gradient_penalty(logits, inputs, gamma)
                loss = loss + plan.scale * penalty
                stats[name] = penalty.detach()
                stats[f"{name}_grad_norm_sq"] = penalty_stats["grad_norm_sq"]
        stats["d_loss"] = loss.detach()
        return loss, stats

    def generator_step(
        self, real: torch.Tensor, fake: torch.Tensor, *conditioning
    ) -> tuple[torch.Tensor, Stats]:
        """G loss: generated ``fake`` (keeps its graph) ranked against ``real`` by D. Gradients
        reach G through D's inputs only: D's parameters are frozen and D(real) has no graph."""
        with frozen(self.discriminator):
            with torch.no_grad():
                real_logits = self.discriminator(real.detach(), *conditioning)
            fake_logits = self.discriminator(fake, *conditioning)
        return relativistic_generator_loss(real_logits, fake_logits)
