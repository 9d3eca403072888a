"""Adaptive layer norm (AdaLN) conditioned on a vector such as an instrument-class embedding.

The conditioning vector is mapped by ``Linear(SiLU(cond))`` to a per-channel shift, scale and
(optionally) a residual gate. That linear is zero-initialised, so at initialisation the norm is a
plain LayerNorm and a gated residual branch contributes nothing: every block starts as identity.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class Modulation(NamedTuple):
    """Per-sample, per-channel modulation, each ``(B, 1, D)`` so it broadcasts over time."""

    shift: torch.Tensor
    gain: torch.Tensor  # 1 + scale
    gate: torch.Tensor | None


class AdaLN(nn.Module):
    """``LayerNorm(x) * (1 + scale(c)) + shift(c)``, plus a gate ``g(c)`` for the residual branch.

    ``modulation(cond)`` and ``modulate(x, modulation)`` are separate so a streaming caller can
    compute the modulation once per conditioning change instead of once per frame.
    """

    def __init__(self, dim: int, cond_dim: int, gated: bool = True, eps: float = 1e-6):
        super().__init__()
        self.dim = dim
        self.gated = gated
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=eps)
        self.to_modulation = nn.Linear(cond_dim, (3 if gated else 2) * dim)
        nn.init.zeros_(self.to_modulation.weight)
        nn.init.zeros_(self.to_modulation.bias)

    def modulation(self, cond: torch.Tensor) -> Modulation:  # cond (B, C)
        params = self.to_modulation(F.silu(cond)).unsqueeze(1)  # (B, 1, k * D)
        if self.gated:
            shift, scale, gate = params.chunk(3, dim=-1)
            return Modulation(shift, 1.0 + scale, gate)
        shift, scale = params.chunk(2, dim=-1)
        return Modulation(shift, 1.0 + scale, None)

    def modulate(self, x: torch.Tensor, modulation: Modulation) -> torch.Tensor:  # (B, T, D)
        return torch.addcmul(modulation.shift, self.norm(x), modulation.gain)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:  # (B, T, D)
        return self.modulate(x, self.modulation(cond))
