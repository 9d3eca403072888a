"""LiveBand discriminator: a non-causal, class-conditional 1D ConvNeXt-style critic (paper, sec. 4.5).

It scores a whole accompaniment sequence given its mix: input ``concat(accompaniment, mix)`` along
channels ``(B, 2D, T)`` (convolutional layout), a stem, ``n_levels`` temporal resolutions of
residual blocks at a fixed width with x2 average-pool downsampling between levels, then a mean
over time and a linear layer to one logit per sequence ``(B,)``.

Blocks follow R3GAN: no normalisation layers; 1x1 conv expand -> act -> grouped conv -> act ->
1x1 conv back (zero-initialised, so each block starts as identity) -> residual. The instrument
class enters each block as a learned per-channel scale ``1 + gamma(class)`` of the expanded
hidden channels (AdaLN without the normalisation), also zero-initialised.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from liveband.errors import LiveBandError


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Discriminator shape; defaults are the offline default profile."""

    latent_dim: int = 32  # D: channels of accompaniment and of mix latents (input is 2D channels)
    width: int = 256  # fixed channel width at every resolution level
    n_levels: int = 5  # temporal resolution levels; x2 downsampling between successive levels
    blocks_per_level: int = 1  # residual blocks at each level
    expansion: int = 2  # hidden channels inside a block = expansion * width
    groups: int = 16  # groups of the grouped conv inside each block (must divide the hidden width)
    kernel_size: int = 3  # temporal kernel of the grouped conv (odd, 'same' padding)
    n_classes: int = 18  # instrument classes INCLUDING null (the last index); builders set it
    negative_slope: float = 0.2  # LeakyReLU slope

    def __post_init__(self):
        hidden = self.expansion * self.width
        if hidden % self.groups:
            raise LiveBandError(
                f"discriminator.groups: {self.groups} does not divide hidden width {hidden}"
            )
        if self.kernel_size % 2 == 0:
            raise LiveBandError(f"discriminator.kernel_size: must be odd, got {self.kernel_size}")
        if self.n_levels < 1 or self.blocks_per_level < 1:
            raise LiveBandError("discriminator.n_levels / blocks_per_level: must be >= 1")

    @property
    def min_frames(self) -> int:
        """Shortest sequence with at least one frame at the coarsest level."""
        return 2 ** (self.n_levels - 1)


class ConditionalResidualBlock(nn.Module):
    """x + back(act(grouped(act(expand(x)) * (1 + gamma(c))))) with ``back`` zero-initialised."""

    def __init__(self, cfg: DiscriminatorConfig):
        super().__init__()
        hidden = cfg.expansion * cfg.width
        self.negative_slope = cfg.negative_slope
        self.expand = nn.Conv1d(cfg.width, hidden, 1)
        self.grouped = nn.Conv1d(
            hidden, hidden, cfg.kernel_size, padding=cfg.kernel_size // 2, groups=cfg.groups
        )
        self.back = nn.Conv1d(hidden, cfg.width, 1)
        self.class_scale = nn.Linear(cfg.width, hidden)  # class embedding -> per-channel scale
        for layer in (self.back, self.class_scale):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, class_vector: torch.Tensor) -> torch.Tensor:
        # x (B, W, T), class_vector (B, W)
        hidden = F.leaky_relu(self.expand(x), self.negative_slope)  # (B, E, T)
        hidden = hidden * (1.0 + self.class_scale(class_vector)).unsqueeze(-1)
        hidden = F.leaky_relu(self.grouped(hidden), self.negative_slope)
        return x + self.back(hidden)


class Discriminator(nn.Module):
    """``D(accompaniment, mix, instrument)`` -> one realism logit per sequence; see module doc."""

    def __init__(self, cfg: DiscriminatorConfig):
        super().__init__()
        self.cfg = cfg
        self.class_embedding = nn.Embedding(cfg.n_classes, cfg.width)
        self.stem = nn.Conv1d(2 * cfg.latent_dim, cfg.width, 1)
        self.levels = nn.ModuleList(
            nn.ModuleList(ConditionalResidualBlock(cfg) for _ in range(cfg.blocks_per_level))
            for _ in range(cfg.n_levels)
        )
        self.head = nn.Linear(cfg.width, 1)

    def forward(
        self, accompaniment: torch.Tensor, mix: torch.Tensor, instrument: torch.Tensor
    ) -> torch.Tensor:
        """accompaniment (B, D, T), mix (B, D, T), instrument (B,) long -> logits (B,)."""
        cfg = self.cfg
        if accompaniment.shape != mix.shape or accompaniment.shape[1] != cfg.latent_dim:
            raise LiveBandError(
                f"discriminator input: accompaniment {tuple(accompaniment.shape)} and mix "
                f"{tuple(mix.shape)} must both be (B, {cfg.latent_dim}, T)"
            )
        if accompaniment.shape[-1] < cfg.min_frames:
            raise LiveBandError(
                f"discriminator input: {accompaniment.shape[-1]} frames < {cfg.min_frames} "
                f"needed for {cfg.n_levels} levels"
            )
        class_vector = self.class_embedding(instrument)  # (B, W)
        x = self.stem(torch.cat((accompaniment, mix), dim=1))  # (B, W, T)
        for index, blocks in enumerate(self.levels):
            if index > 0:
                x = F.avg_pool1d(x, kernel_size=2, stride=2, ceil_mode=True)  # (B, W, ceil(T/2))
            for block in blocks:
                x = block(x, class_vector)
        pooled = F.leaky_relu(x, cfg.negative_slope).mean(dim=-1)  # (B, W)
        return self.head(pooled).squeeze(-1)  # (B,)
