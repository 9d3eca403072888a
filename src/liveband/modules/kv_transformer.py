"""Causal pre-norm transformer with rotary positions, a sliding attention window and a KV cache.

Every position attends to itself and the ``window - 1`` positions before it. Training runs all
positions in parallel under that banded mask; streaming runs one position per call, keeping
the last ``window`` keys and values in a fixed-size ring buffer. The two agree exactly
(up to float rounding) for any sequence length, because both see the same keys: the band is
what a bounded cache can hold. Rotary embeddings (RoPE) make attention depend only on
relative offsets, so positions can grow without bound while the cache rolls.
Tensors inside the transformer are ``(B, T, D)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


class RotaryEmbedding(nn.Module):
    """Rotates query/key channel pairs by position-dependent angles (half-split layout)."""

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        if head_dim % 2:
            raise ValueError(f"rotary head_dim must be even, got {head_dim}")
        inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
        self.register_buffer("inv_freq", inv_freq, persistent=False)  # (Dh/2,) float64

    def forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """x (B, H, T, Dh), positions (T,) long -> rotated x (B, H, T, Dh)."""
        # Angles in float64: positions keep growing in long streams.
        angles = positions.to(torch.float64)[:, None] * self.inv_freq[None, :]  # (T, Dh/2)
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


@dataclass
class KVCache:
    """Streaming state: per-layer ring buffers of the last ``window`` rotated keys and values."""

    keys: list[torch.Tensor]  # per layer (B, H, window, Dh)
    values: list[torch.Tensor]  # per layer (B, H, window, Dh)
    slot_positions: torch.Tensor  # (window,) long, position held by each slot, -1 if empty
    position: int = 0  # position of the next step

    @property
    def window(self) -> int:
        return self.slot_positions.shape[0]


def banded_causal_mask(n_positions: int, window: int, device: torch.device) -> torch.Tensor:
    """(T, T) bool, True where query i may attend key j: j <= i and i - j < window."""
    i = torch.arange(n_positions, device=device)[:, None]
    j = torch.arange(n_positions, device=device)[None, :]
    return (j <= i) & (i - j < window)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention over a sliding causal window, parallel or one step with cache."""

    def __init__(self, d_model: int, n_heads: int, window: int, dropout: float = 0.0):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        self.n_heads, self.head_dim, self.window = n_heads, d_model // n_heads, window
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.rotary = RotaryEmbedding(self.head_dim)
        self.dropout = dropout

    def _heads(self, x: torch.Tensor, positions: torch.Tensor):
        """(B, T, D) -> rotated q, rotated k, v, each (B, H, T, Dh)."""
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        return self.rotary(q, positions), self.rotary(k, positions), v

    def _merge(self, y: torch.Tensor) -> torch.Tensor:
        """(B, H, T, Dh) -> (B, T, D) through the output projection."""
        b, _, t, _ = y.shape
        return self.out(y.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim))

    def forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """All positions at once under the banded causal mask: (B, T, D) -> (B, T, D)."""
        q, k, v = self._heads(x, positions)
        p = self.dropout if self.training else 0.0
        if x.shape[1] <= self.window:  # the band is the plain causal mask
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)
        else:
            mask = banded_causal_mask(x.shape[1], self.window, x.device)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return self._merge(y)

    def step(self, x: torch.Tensor, cache: KVCache, layer: int) -> torch.Tensor:
        """One position (B, 1, D) -> (B, 1, D); writes its key/value into the ring buffer.

        The caller has already stamped ``cache.slot_positions`` for this step.
        """
        slot = cache.position % cache.window
        positions = torch.tensor([cache.position], device=x.device)
        q, k, v = self._heads(x, positions)
        cache.keys[layer][:, :, slot] = k[:, :, 0]
        cache.values[layer][:, :, slot] = v[:, :, 0]
        filled = (cache.slot_positions >= 0)[None, None, None, :]  # (1, 1, 1, window)
        y = F.scaled_dot_product_attention(
            q, cache.keys[layer], cache.values[layer], attn_mask=filled
        )
        return self._merge(y)


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model: int, n_heads: int, window: int, ff_mult: int, dropout: float):
        super().__init__()
        self.attn_norm = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, window, dropout)
        self.mlp_norm = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, ff_mult * d_model),
            nn.GELU(),
            nn.Linear(ff_mult * d_model, d_model),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x), positions)
        return x + self.mlp(self.mlp_norm(x))

    def step(self, x: torch.Tensor, cache: KVCache, layer: int) -> torch.Tensor:
        x = x + self.attn.step(self.attn_norm(x), cache, layer)
        return x + self.mlp(self.mlp_norm(x))


class KVTransformer(nn.Module):
    """Stack of causal blocks with a final LayerNorm; ``window`` bounds attention and the cache."""

    def __init__(
        self,
        d_model: int,
        n_layers: int,
        n_heads: int,
        window: int,
        ff_mult: int = 4,
        dropout: float = 0.0,
    ):
        super().__init__()
        if window < 1:
            raise ValueError(f"attention window must be >= 1, got {window}")
        self.d_model, self.n_heads, self.window = d_model, n_heads, window
        self.blocks = nn.ModuleList(
            Block(d_model, n_heads, window, ff_mult, dropout) for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, start_position: int = 0) -> torch.Tensor:
        """Parallel pass over positions start_position.. : (B, T, D) -> (B, T, D)."""
        positions = torch.arange(start_position, start_position + x.shape[1], device=x.device)
        for block in self.blocks:
            x = block(x, positions)
        return self.norm(x)

    def new_cache(self, batch_size: int, device=None, dtype=None) -> KVCache:
        """An empty streaming state; its memory is fixed at ``window`` positions per layer."""
        p = next(self.parameters())
        device, dtype = device or p.device, dtype or p.dtype
        shape = (batch_size, self.n_heads, self.window, self.d_model // self.n_heads)
        n = len(self.blocks)
        return KVCache(
            keys=[torch.zeros(shape, device=device, dtype=dtype) for _ in range(n)],
            values=[torch.zeros(shape, device=device, dtype=dtype) for _ in range(n)],
            slot_positions=torch.full((self.window,), -1, dtype=torch.long, device=device),
        )

    def step(self, x: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Next position with the cache: (B, D) -> (B, D); advances ``cache.position``."""
        cache.slot_positions[cache.position % cache.window] = cache.position
        h = x[:, None, :]  # (B, 1, D)
        for layer, block in enumerate(self.blocks):
            h = block.step(h, cache, layer)
        cache.position += 1
        return self.norm(h)[:, 0]
