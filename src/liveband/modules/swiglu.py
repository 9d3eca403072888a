"""SwiGLU feed-forward layer: the MLP of each generator transformer block."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def swiglu_hidden_dim(dim: int, mlp_ratio: float, multiple_of: int = 16) -> int:
    """Hidden width ``mlp_ratio * dim`` rounded up to a multiple (8/3 keeps ~8 dim^2 weights)."""
    hidden = int(round(mlp_ratio * dim))
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


class SwiGLU(nn.Module):
    """``down(silu(gate(x)) * up(x))``; gate and up share one matmul for speed."""

    def __init__(self, dim: int, hidden_dim: int):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.gate_up = nn.Linear(dim, 2 * hidden_dim, bias=False)
        self.down = nn.Linear(hidden_dim, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, T, D)
        gate, up = self.gate_up(x).chunk(2, dim=-1)  # (B, T, H) each
        return self.down(F.silu(gate) * up)
