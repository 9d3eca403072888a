"""Transformer stacks over the shared attention: the block loops, and SMG's pre-norm trunk.

``run_blocks`` / ``step_blocks`` / ``new_caches`` run any stack of blocks that share one rotary
embedding, in parallel under a (windowed) causal mask or one frame at a time against one
``RollingKVCache`` per block; the generator (AdaLN blocks, ``liveband.models.generator``) and
``CausalTransformer`` (SMG) both use them. A block is called as ``block(x, rope, causal, window,
*context)`` and ``block.step(x, rope, cache, *context)``, where ``context`` is what the model
conditions that block on (the generator's AdaLN modulations; nothing for SMG), and has ``attn``.

``CausalTransformer`` is the SMG baseline's trunk. Every position attends to itself and the ``window - 1`` positions before it. Training runs all
positions in parallel under that banded mask; streaming runs one position per call against one
``RollingKVCache`` per block (the attention of ``liveband.modules.attention``, shared with the
generator), so the two agree for any sequence length: the band is what a bounded cache holds.
Rotary positions make attention depend only on relative offsets, so positions grow without bound
while the caches roll. Tensors are ``(B, T, D)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn

from liveband.errors import LiveBandError
from liveband.modules.attention import RollingKVCache, RotaryAngles, RotaryEmbedding, SelfAttention


def _with_context(blocks: nn.ModuleList, contexts: Iterable | None):
    """(block, extra call arguments) pairs; ``contexts`` (one per block) may be lazy, so a
    block's context can be computed just before the block runs."""
    if contexts is None:
        return ((block, ()) for block in blocks)
    return ((block, (context,)) for block, context in zip(blocks, contexts, strict=True))


def run_blocks(
    blocks: nn.ModuleList, rotary: RotaryEmbedding, x: torch.Tensor, causal: bool, window: int | None,
    start_position: int = 0, contexts: Iterable | None = None,
) -> torch.Tensor:
    """Parallel pass of x (B, T, D) at positions ``start_position..`` -> (B, T, D)."""
    positions = torch.arange(start_position, start_position + x.shape[1], device=x.device)
    rope = rotary(positions, dtype=x.dtype)
    for block, context in _with_context(blocks, contexts):
        x = block(x, rope, causal, window, *context)
    return x


def step_blocks(
    blocks: nn.ModuleList, x: torch.Tensor, rope: RotaryAngles, caches: Sequence[RollingKVCache],
    contexts: Iterable | None = None,
) -> torch.Tensor:
    """One frame x (B, 1, D) at the position encoded in ``rope`` -> (B, 1, D); updates the caches."""
    for (block, context), cache in zip(_with_context(blocks, contexts), caches, strict=True):
        x = block.step(x, rope, cache, *context)
    return x


def new_caches(
    blocks: nn.ModuleList, batch_size: int, window: int, device: torch.device | None,
    dtype: torch.dtype,
) -> list[RollingKVCache]:
    """One empty rolling KV cache of ``window`` frames per block."""
    return [block.attn.new_cache(batch_size, window, device, dtype) for block in blocks]


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

    def forward(
        self, x: torch.Tensor, rope: RotaryAngles, causal: bool, window: int | None
    ) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x), rope, causal, window)
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
        return self.norm(run_blocks(self.blocks, self.rotary, x, True, self.window, start_position))

    def new_cache(self, batch_size: int, device=None, dtype=None) -> TransformerCache:
        """An empty streaming state; its memory is fixed at ``window`` positions per block."""
        p = next(self.parameters())
        device, dtype = device or p.device, dtype or p.dtype
        return TransformerCache(new_caches(self.blocks, batch_size, self.window, device, dtype))

    def step(self, x: torch.Tensor, cache: TransformerCache) -> torch.Tensor:
        """Next position with the cache: (B, D) -> (B, D); advances ``cache.position``."""
        positions = torch.tensor([cache.position], device=x.device)
        h = x[:, None, :]  # (B, 1, D)
        h = step_blocks(self.blocks, h, self.rotary(positions, dtype=h.dtype), cache.caches)
        cache.position += 1
        return self.norm(h)[:, 0]
