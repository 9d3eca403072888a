"""R3GAN pieces vs hand-computed values, the lazy R1/R2 schedule, and a few-step CPU GAN run."""

from __future__ import annotations

import math

import pytest
import torch

from liveband.errors import LiveBandError
from liveband.losses.adagp import AdaptiveGradientPenalty
from liveband.losses.r3gan import (
    PenaltyPlan,
    R3GANObjective,
    gradient_penalty,
    lazy_penalty_plan,
    relativistic_discriminator_loss,
    relativistic_generator_loss,
)
from liveband.models.anticipation import anticipation_pairs
from liveband.models.discriminator import Discriminator, DiscriminatorConfig
from liveband.models.generator import Generator, GeneratorConfig


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_relativistic_losses_equal_hand_values():
    real = torch.tensor([1.0, -0.5, 2.0])
    fake = torch.tensor([0.0, 0.5, 2.5])
    margins = [1.0, -1.0, -0.5]  # real - fake
    d_loss, d_stats = relativistic_discriminator_loss(real, fake)
    g_loss, g_stats = relativistic_generator_loss(real, fake)
    assert d_loss.item() == pytest.approx(sum(softplus(-m) for m in margins) / 3, rel=1e-6)
    assert g_loss.item() == pytest.approx(sum(softplus(m) for m in margins) / 3, rel=1e-6)
    assert d_stats["advantage"].item() == pytest.approx(sum(margins) / 3, rel=1e-6)
    assert not d_stats["d_adversarial"].requires_grad and not g_stats["g_adversarial"].requires_grad


class LinearCritic(torch.nn.Module):
    """D(x) = sum_{c,t} w[c,t] x[b,c,t] + b: dD/dx = w for every sample."""

    def __init__(self, channels: int, frames: int):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.arange(channels * frames, dtype=torch.float32)
                                         .reshape(channels, frames) / 10.0 - 0.3)
        self.bias = torch.nn.Parameter(torch.tensor(0.7))

    def forward(self, x, *conditioning):  # (B, C, T) -> (B,)
        return (x * self.weight).sum(dim=(1, 2)) + self.bias


def test_gradient_penalty_on_linear_critic_is_gamma_half_squared_weight_norm():
    critic = LinearCritic(2, 3)
    x = torch.randn(4, 2, 3, requires_grad=True)
    gamma = 0.8
    penalty, stats = gradient_penalty(critic(x), x, gamma)
    expected = gamma / 2 * float((critic.weight.detach() ** 2).sum())
    assert penalty.item() == pytest.approx(expected, rel=1e-6)
    assert stats["grad_norm_sq"].item() == pytest.approx(expected * 2 / gamma, rel=1e-6)
    # the penalty is differentiable w.r.t. D's weights: d/dw (gamma/2 ||w||^2) = gamma w
    penalty.backward()
    assert torch.allclose(critic.weight.grad, gamma * critic.weight.detach(), atol=1e-6)


def test_gradient_penalty_sums_over_channels_and_time_and_averages_over_batch():
    x = torch.tensor([[[1.0, 2.0], [0.0, 1.0]], [[3.0, 0.0], [0.0, 0.0]]], requires_grad=True)
    logits = 0.5 * (x**2).sum(dim=(1, 2))  # dD/dx = x, so ||grad_b||^2 = ||x_b||^2 = 6 and 9
    penalty, _ = gradient_penalty(logits, x, gamma=2.0)
    assert penalty.item() == pytest.approx(2.0 / 2 * (6.0 + 9.0) / 2)
    with pytest.raises(LiveBandError):
        gradient_penalty(logits, x.detach(), 1.0)


def test_lazy_schedule_fires_every_k_steps_alternating_r1_r2_scaled_by_k():
    plans = [lazy_penalty_plan(step, 4) for step in range(17)]
    fired = {s: p for s, p in enumerate(plans) if p.r1 or p.r2}
    assert fired == {
        0: PenaltyPlan(True, False, 4.0),
        4: PenaltyPlan(False, True, 4.0),
        8: PenaltyPlan(True, False, 4.0),
        12: PenaltyPlan(False, True, 4.0),
        16: PenaltyPlan(True, False, 4.0),
    }
    assert all(p.scale == 0.0 for s, p in enumerate(plans) if s not in fired)
    assert all(lazy_penalty_plan(s, 1) == PenaltyPlan(True, True, 1.0) for s in range(3))
    with pytest.raises(LiveBandError):
        lazy_penalty_plan(0, 0)


class QuadraticCritic(torch.nn.Module):
    """D(x) = a * 0.5 ||x||^2 per sample, so ||dD/dx||^2 = a^2 ||x||^2."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(1.5))

    def forward(self, x, *conditioning):
        return self.a * 0.5 * (x**2).sum(dim=(1, 2))


def test_objective_applies_r1_on_reals_and_r2_on_fakes_with_lazy_scale():
    critic = QuadraticCritic()
    objective = R3GANObjective(critic, penalty_interval=3)
    real = torch.randn(4, 2, 5)
    fake = torch.randn(4, 2, 5, requires_grad=True)  # generator output: must be detached by D step
    gamma = 0.2
    r1_expected = gamma / 2 * 1.5**2 * float((real**2).sum(dim=(1, 2)).mean())
    r2_expected = gamma / 2 * 1.5**2 * float((fake.detach() ** 2).sum(dim=(1, 2)).mean())
    adversarial, _ = relativistic_discriminator_loss(critic(real), critic(fake.detach()))

    loss, stats = objective.discriminator_step(real, fake, gamma=gamma, step=0)
    assert stats["r1"].item() == pytest.approx(r1_expected, rel=1e-5) and "r2" not in stats
    assert loss.item() == pytest.approx(adversarial.item() + 3 * r1_expected, rel=1e-5)
    loss.backward()
    assert fake.grad is None  # the D step never reaches the generator

    loss, stats = objective.discriminator_step(real, fake, gamma=gamma, step=3)
    assert stats["r2"].item() == pytest.approx(r2_expected, rel=1e-5) and "r1" not in stats
    assert loss.item() == pytest.approx(adversarial.item() + 3 * r2_expected, rel=1e-5)

    loss, stats = objective.discriminator_step(real, fake, gamma=gamma, step=1)
    assert loss.item() == pytest.approx(adversarial.item(), rel=1e-6)
    assert "r1" not in stats and "r2" not in stats


def test_generator_step_gradient_reaches_fake_only():
    critic = QuadraticCritic()
    real = torch.randn(2, 2, 3, requires_grad=True)
    fake = torch.randn(2, 2, 3, requires_grad=True)
    loss, _ = R3GANObjective(critic).generator_step(real, fake)
    expected, _ = relativistic_generator_loss(critic(real), critic(fake))
    assert loss.item() == pytest.approx(expected.item())
    loss.backward()
    assert real.grad is None and fake.grad.abs().max() > 0


def test_generator_step_leaves_no_gradient_on_discriminator_and_matches_unfrozen_gradient():
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1),
                                 torch.nn.Flatten(0))
    before = [p.detach().clone() for p in critic.parameters()]
    real, fake = torch.randn(3, 2, 3), torch.randn(3, 2, 3, requires_grad=True)
    loss, _ = R3GANObjective(critic).generator_step(real, fake)
    loss.backward()
    assert all(p.grad is None for p in critic.parameters())           # no D parameter gradient computed
    assert all(p.requires_grad for p in critic.parameters())          # D trainable again afterwards
    assert count_changed(before, critic) == 0
    frozen_grad = fake.grad.clone()
    fake.grad = None
    relativistic_generator_loss(critic(real), critic(fake))[0].backward()  # the unfrozen G step
    torch.testing.assert_close(fake.grad, frozen_grad)
    assert any(p.grad is not None for p in critic.parameters())


def count_changed(before: list[torch.Tensor], module: torch.nn.Module) -> int:
    after = list(module.parameters())
    return sum(not torch.equal(a, b.detach()) for a, b in zip(before, after, strict=True))


def test_few_step_cpu_gan_training_is_finite_and_moves_weights():
    torch.manual_seed(0)
    latent_dim, frames, tau = 4, 16, 1
    generator = Generator(GeneratorConfig(
        latent_dim=latent_dim, noise_dim=3, d_model=32, n_layers=2, n_heads=4,
        context_frames=frames, n_classes=3, sink=True, attn_backend="sdpa",
    ))
    discriminator = Discriminator(DiscriminatorConfig(
        latent_dim=latent_dim, width=16, n_levels=5, expansion=2, groups=4, n_classes=3,
    ))
    g_opt = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.0, 0.99))
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.0, 0.99))
    objective = R3GANObjective(discriminator, penalty_interval=2)
    penalty = AdaptiveGradientPenalty(1.0, target_advantage=0.5, step_size=0.1)
    g_before = [p.detach().clone() for p in generator.parameters()]
    d_before = [p.detach().clone() for p in discriminator.parameters()]

    def conv(x):  # (B, T, D) -> (B, D, T)
        return x.transpose(1, 2)

    for step in range(4):
        crop_mix = torch.randn(4, frames + tau, latent_dim)
        crop_target = torch.randn(4, frames + tau, latent_dim)
        mix, target = anticipation_pairs(crop_mix, crop_target, tau)
        instrument = torch.randint(3, (4,))
        noise = generator.sample_noise(4, frames)

        fake = generator(mix, noise, instrument)
        d_loss, d_stats = objective.discriminator_step(
            conv(target), conv(fake), conv(mix), instrument, gamma=penalty.weight, step=step
        )
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        penalty.update(d_stats["advantage"])

        fake = generator(mix, noise, instrument)
        g_loss, g_stats = objective.generator_step(conv(target), conv(fake), conv(mix), instrument)
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
        assert all(torch.isfinite(v) for v in {**d_stats, **g_stats}.values())

    g_moved = count_changed(g_before, generator)
    d_moved = count_changed(d_before, discriminator)
    assert g_moved > len(g_before) // 2 and d_moved > len(d_before) // 2
    assert penalty.weight != 1.0



@pytest.mark.parametrize("step, expected", [(0, ["real"]), (1, []), (2, ["fake"])])
def test_penalised_inputs_go_through_the_eager_discriminator(step, expected):
    """A compiled D hands its eager forward for the inputs a penalty differentiates twice."""
    weight = torch.randn(3, requires_grad=True)
    real, fake = torch.randn(2, 3, 5), torch.randn(2, 3, 5)
    seen = []

    def compiled(x):
        return (x * weight[:, None]).sum(dim=(1, 2))

    def eager(x):
        seen.append("real" if torch.equal(x, real) else "fake")
        return compiled(x)

    loss, _ = R3GANObjective(compiled, penalty_interval=2, penalised=eager).discriminator_step(
        real, fake, gamma=1.0, step=step)
    loss.backward()
    assert seen == expected
    plain, _ = R3GANObjective(compiled, penalty_interval=2).discriminator_step(real, fake, gamma=1.0, step=step)
    assert torch.equal(loss.detach(), plain.detach())
