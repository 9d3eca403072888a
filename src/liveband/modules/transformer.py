"""A causal pre-norm transformer over a sliding attention window, parallel or one step at a time.

Every position attends to itself and the ``window - 1`` positions before it. Training runs all
positions in parallel under that banded mask; streaming runs one position per call against one
``RollingKVCache`` per block (the attention of ``liveband.modules.attention``, shared with the
generator), so the two agree for any sequence length: the band is what a bounded cache holds.
Rotary positions make attention depend only on relative offsets, so positions grow without bound
while the caches roll. This is the SMG baseline's trunk; tensors are ``(B, T, D)``.
"""

from __future__ import annotations

import torch
from torch import nn

from liveband.errors import LiveBandError
from liveband.modules.attention import RollingKVCache, RotaryAngles, RotaryEmbedding, SelfAttention


class PreNormBlock(nn.Module):
    """x + attn(LN(x)), then x + MLP(LN(x)); attention with biases, no QK-norm, no sink."""

    def __init__(self, d_model: int, n_heads: int, ff_mult: int, dropout: float):
        super().__init__()
        self.attn_norm = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads, qk_norm=False, bias=True, dropout=dropout)
        self.mlp_norm = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, ff_mult * d_model),
            nn.GELU(),
            nn.Linear(ff_mult * d_model, d_model),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor, rope: RotaryAngles, window: int) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x), rope, True, window)
        return x + self.mlp(self.mlp_norm(x))

    def step(self, x: torch.Tensor, rope: RotaryAngles, cache: RollingKVCache) -> torch.Tensor:
        x = x + self.attn.step(self.attn_norm(x), rope, cache)
        return x + self.mlp(self.mlp_norm(x))


class TransformerCache:
    """Streaming state of a ``CausalTransformer``: one rolling KV cache per block, the position."""

    def __init__(self, caches: list[RollingKVCache]):
        self.caches = caches
        self.position = 0  # position of the next step

    @property
    def window(self) -> int:
        return self.caches[0].window

    @property
    def keys(self) -> list[torch.Tensor]:  # per block (B, H, window, Dh)
        return [cache.keys for cache in self.caches]

    @property
    def values(self) -> list[torch.Tensor]:  # per block (B, H, window, Dh)
        return [cache.values for cache in self.caches]

    @property
    def slot_positions(self) -> torch.Tensor:
        """(window,) long: the position each ring slot holds, -1 if never written."""
        slots = torch.arange(self.window)
        last = self.position - 1 - (self.position - 1 - slots).remainder(self.window)
        return torch.where(slots < self.position, last, -1)


class CausalTransformer(nn.Module):
    """Stack of ``PreNormBlock``s with a final LayerNorm; ``window`` bounds attention and cache."""

    def __init__(
        self, d_model: int, n_layers: int, n_heads: int, window: int, ff_mult: int = 4,
        dropout: float = 0.0, rope_base: float = 10000.0,
    ):
        super().__init__()
        if window < 1:
            raise LiveBandError(f"attention window must be >= 1, got {window}")
        self.d_model, self.n_heads, self.window = d_model, n_heads, window
        self.rotary = RotaryEmbedding(d_model // n_heads, rope_base)
        self.blocks = nn.ModuleList(
            PreNormBlock(d_model, n_heads, ff_mult, dropout) for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, start_position: int = 0) -> torch.Tensor:
        """Parallel pass over positions start_position.. : (B, T, D) -> (B, T, D)."""
        positions = torch.arange(start_position, start_position + x.shape[1], device=x.device)
        rope = self.rotary(positions, dtype=x.dtype)
        for block in self.blocks:
            x = block(x, rope, self.window)
        return self.norm(x)

    def new_cache(self, batch_size: int, device=None, dtype=None) -> TransformerCache:
        """An empty streaming state; its memory is fixed at ``window`` positions per block."""
        p = next(self.parameters())
        device, dtype = device or p.device, dtype or p.dtype
        return TransformerCache(
            [block.attn.new_cache(batch_size, self.window, device, dtype) for block in self.blocks]
        )

    def step(self, x: torch.Tensor, cache: TransformerCache) -> torch.Tensor:
        """Next position with the cache: (B, D) -> (B, D); advances ``cache.position``."""
        positions = torch.tensor([cache.position], device=x.device)
        h = x[:, None, :]  # (B, 1, D)
        rope = self.rotary(positions, dtype=h.dtype)
        for block, block_cache in zip(self.blocks, cache.caches, strict=True):
            h = block.step(h, rope, block_cache)
        cache.position += 1
        return self.norm(h)[:, 0]
