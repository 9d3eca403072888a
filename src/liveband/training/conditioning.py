"""Conditioning dropout shared by the GAN and the baseline."""

from __future__ import annotations

import torch


def drop_classes(instrument: torch.Tensor, p: float, null_class: int, g: torch.Generator) -> torch.Tensor:
    """Replace each class by the null class with probability ``p`` (conditioning dropout)."""
    if p <= 0:
        return instrument
    drop = torch.rand(instrument.shape, generator=g) < p
    return torch.where(drop, torch.full_like(instrument, null_class), instrument)
