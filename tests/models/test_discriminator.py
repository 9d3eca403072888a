"""Discriminator: shapes, five levels, non-causal, class scaling, no norms, identity-at-init blocks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from liveband.errors import LiveBandError
from liveband.models.discriminator import (
    ConditionalResidualBlock,
    Discriminator,
    DiscriminatorConfig,
)


def tiny_config(**overrides) -> DiscriminatorConfig:
    base = dict(latent_dim=4, width=16, n_levels=5, blocks_per_level=1, expansion=2, groups=4,
                n_classes=3)
    return DiscriminatorConfig(**{**base, **overrides})


def make_discriminator(seed: int = 0, randomise: bool = True, **overrides) -> Discriminator:
    """Tiny D; zero-initialised parts (last conv, class scale) randomised unless asked not to."""
    torch.manual_seed(seed)
    discriminator = Discriminator(tiny_config(**overrides))
    if randomise:
        with torch.no_grad():
            for name, parameter in discriminator.named_parameters():
                if ".back." in name or ".class_scale." in name:
                    parameter.normal_(0.0, 0.3)
    return discriminator


def batch(frames: int, n: int = 2, latent_dim: int = 4, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    accompaniment = torch.randn(n, latent_dim, frames, generator=g)  # (B, D, T)
    mix = torch.randn(n, latent_dim, frames, generator=g)
    return accompaniment, mix, torch.arange(n) % 3


@pytest.mark.parametrize("frames", [16, 37, 64])
def test_one_finite_logit_per_sequence(frames):
    logits = make_discriminator()(*batch(frames))
    assert logits.shape == (2,) and torch.isfinite(logits).all()


def test_five_levels_halve_time_between_levels():
    discriminator = make_discriminator()
    lengths = []
    for blocks in discriminator.levels:
        blocks[0].register_forward_hook(lambda m, i, o: lengths.append(o.shape[-1]))
    discriminator(*batch(64))
    assert lengths == [64, 32, 16, 8, 4]


def test_no_normalisation_layers_and_grouped_convs():
    discriminator = make_discriminator(groups=8)
    norms = (nn.LayerNorm, nn.GroupNorm, nn.BatchNorm1d, nn.InstanceNorm1d, nn.RMSNorm)
    assert not any(isinstance(m, norms) for m in discriminator.modules())
    blocks = [m for m in discriminator.modules() if isinstance(m, ConditionalResidualBlock)]
    assert len(blocks) == 5 and all(b.grouped.groups == 8 for b in blocks)


def test_blocks_start_as_identity():
    discriminator = make_discriminator(randomise=False)
    x = torch.randn(2, 16, 10)
    block = discriminator.levels[0][0]
    assert torch.equal(block(x, torch.randn(2, 16)), x)


def test_non_causal_every_frame_of_both_inputs_matters():
    discriminator = make_discriminator()
    accompaniment, mix, instrument = batch(32)
    accompaniment.requires_grad_(True)
    mix.requires_grad_(True)
    discriminator(accompaniment, mix, instrument).sum().backward()
    for grad in (accompaniment.grad, mix.grad):
        per_frame = grad.abs().sum(dim=(0, 1))  # (T,)
        assert torch.all(per_frame > 0.0)


def test_class_conditioning_changes_logits_only_through_block_scaling():
    discriminator = make_discriminator()
    accompaniment, mix, _ = batch(32)
    a = discriminator(accompaniment, mix, torch.tensor([0, 0]))
    b = discriminator(accompaniment, mix, torch.tensor([2, 2]))
    assert (a - b).abs().max() > 1e-4
    with torch.no_grad():
        for blocks in discriminator.levels:
            for block in blocks:
                block.class_scale.weight.zero_()
                block.class_scale.bias.zero_()
    a = discriminator(accompaniment, mix, torch.tensor([0, 0]))
    b = discriminator(accompaniment, mix, torch.tensor([2, 2]))
    assert torch.equal(a, b)


def test_samples_are_scored_independently():
    discriminator = make_discriminator()
    accompaniment, mix, instrument = batch(16, n=3)
    together = discriminator(accompaniment, mix, instrument)
    alone = torch.cat([discriminator(accompaniment[i : i + 1], mix[i : i + 1], instrument[i : i + 1])
                       for i in range(3)])
    assert torch.allclose(together, alone, atol=1e-6)


def test_bad_input_raises():
    discriminator = make_discriminator()
    accompaniment, mix, instrument = batch(16)
    with pytest.raises(LiveBandError):
        discriminator(accompaniment.transpose(1, 2), mix.transpose(1, 2), instrument)
    with pytest.raises(LiveBandError, match="frames"):
        discriminator(accompaniment[..., :8], mix[..., :8], instrument)
    with pytest.raises(LiveBandError):
        tiny_config(groups=5)
    with pytest.raises(LiveBandError):
        tiny_config(kernel_size=4)
