"""Self-attention for both streaming models: RoPE, optional QK-norm and scalar sink, a KV cache.

The generator uses QK-norm, bias-free projections and (by default) the sink; the SMG baseline's
trunk (``liveband.modules.transformer``) uses biased projections, neither QK-norm nor sink, and
dropout. Both share the rotary embedding, the masks, the backends and the rolling KV cache.

Shapes inside this module are ``(B, T, D)`` for features and ``(B, H, T, Dh)`` per head.

*Sink.* With ``sink=True`` every head owns one learned logit ``s_h`` that joins the softmax as an
extra column carrying no value: ``out = sum_j exp(a_j) v_j / (sum_j exp(a_j) + exp(s_h))``. Heads
can then put attention mass "nowhere" instead of on whichever frame happens to be oldest in the
window. The sink is a parameter, not a cached frame, so a rolling KV cache can never evict it.
The identity ``out_sink = out_plain * sigmoid(lse - s_h)`` (``lse`` = log-sum-exp of the real
scores) is what the Flex backend uses; the streaming step uses the SDPA form.

*Backends* (same maths, chosen by name): ``"explicit"`` materialises the scores and appends the sink
column; ``"sdpa"`` calls ``F.scaled_dot_product_attention`` with a zero key/value column whose
float-mask entry is the sink logit; ``"flex"`` uses FlexAttention with a block mask and the
log-sum-exp identity. In torch 2.13 Flex has no CPU backward, so train on CPU with ``"sdpa"`` or
``"explicit"``; Flex on CPU is for forward checks only.

*Masks*: causal, causal sliding window of ``window`` frames (each query sees itself and the
``window - 1`` frames before it) and bidirectional.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from liveband.errors import LiveBandError

BACKENDS = ("explicit", "sdpa", "flex")


class RotaryAngles(NamedTuple):
    """cos and sin of the rotary angles for a run of positions, each ``(T, Dh // 2)``."""

    cos: torch.Tensor
    sin: torch.Tensor


class RotaryEmbedding(nn.Module):
    """Maps absolute frame positions to rotary angles; holds no parameters.

    Angles are computed in float64 so that a long stream (large absolute positions) keeps the same
    rotation as the parallel pass to within float32 rounding.
    """

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        if head_dim % 2:
            raise LiveBandError(f"rotary embedding: head_dim must be even, got {head_dim}")
        self.head_dim = head_dim
        self.base = base
        self._inv_freq: dict[torch.device, torch.Tensor] = {}  # float64 per device, not a buffer

    def inv_freq(self, device: torch.device) -> torch.Tensor:  # (Dh // 2,) float64
        if device not in self._inv_freq:
            exponents = torch.arange(0, self.head_dim, 2, dtype=torch.float64, device=device)
            self._inv_freq[device] = self.base ** (-exponents / self.head_dim)
        return self._inv_freq[device]

    def forward(self, positions: torch.Tensor, dtype: torch.dtype = torch.float32) -> RotaryAngles:
        angles = positions.to(torch.float64)[:, None] * self.inv_freq(positions.device)  # (T, Dh/2)
        return RotaryAngles(angles.cos().to(dtype), angles.sin().to(dtype))


def apply_rotary(x: torch.Tensor, rope: RotaryAngles) -> torch.Tensor:
    """Rotate channel pairs ``(i, i + Dh/2)`` of ``x`` (B, H, T, Dh) by the angles of its positions."""
    first, second = x.chunk(2, dim=-1)  # (B, H, T, Dh/2) each
    cos, sin = rope
    if cos.dtype != x.dtype:
        cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.cat((first * cos - second * sin, first * sin + second * cos), dim=-1)


def attention_mask(
    n_frames: int, causal: bool, window: int | None, device: torch.device | None = None
) -> torch.Tensor | None:
    """Boolean ``(T, T)`` mask, True where query ``i`` may attend to key ``j``; None = all allowed.

    Causal: ``j <= i``. With a window of N: also ``i - j < N`` (the last N frames incl. self).
    """
    if not causal:
        return None
    query = torch.arange(n_frames, device=device)[:, None]
    key = torch.arange(n_frames, device=device)[None, :]
    allowed = key <= query
    if window is not None and window < n_frames:
        allowed = allowed & (query - key < window)
    return allowed


def reference_sink_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None,
    sink: torch.Tensor | None,
) -> torch.Tensor:
    """Textbook softmax attention, with the sink as an extra score column whose value is zero.

    q, k, v: (B, H, T, Dh); mask: (T, S) bool or None; sink: (H,) logits or None -> (B, H, T, Dh).
    """
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])  # (B, H, T, S)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    if sink is not None:
        sink_column = sink.to(scores.dtype).view(1, -1, 1, 1).expand(*scores.shape[:-1], 1)
        scores = torch.cat((scores, sink_column), dim=-1)  # (B, H, T, S + 1)
    probs = torch.softmax(scores.float(), dim=-1).to(v.dtype)
    if sink is not None:
        probs = probs[..., :-1]  # the sink column carries no value
    return probs @ v


def sdpa_sink_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None,
    sink: torch.Tensor | None, plain_causal: bool = False, dropout_p: float = 0.0,
) -> torch.Tensor:
    """Same maths through ``F.scaled_dot_product_attention``; the sink is a zero key/value column.

    ``plain_causal`` says ``mask`` is exactly lower-triangular, which lets SDPA skip the mask.
    ``dropout_p`` drops attention weights (training only; the caller passes 0 in eval mode).
    """
    n_frames = q.shape[-2]
    if sink is None:
        if plain_causal:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout_p)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
    batch, heads, _, head_dim = k.shape
    zero = k.new_zeros(batch, heads, 1, head_dim)
    k = torch.cat((k, zero), dim=-2)  # (B, H, S + 1, Dh); score of the zero key is exactly 0
    v = torch.cat((v, zero), dim=-2)
    bias = q.new_zeros(n_frames, n_frames)
    if mask is not None:
        bias = bias.masked_fill(~mask, float("-inf"))
    sink_column = sink.to(q.dtype).view(heads, 1, 1).expand(heads, n_frames, 1)
    bias = torch.cat((bias.expand(heads, n_frames, n_frames), sink_column), dim=-1)  # (H, T, S+1)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias.unsqueeze(0), dropout_p=dropout_p)


_BLOCK_MASKS: dict[tuple, object] = {}


def _flex_block_mask(n_frames: int, causal: bool, window: int | None, device: torch.device):
    """Block mask for FlexAttention, cached per (length, mask kind, device): building one is slow."""
    from torch.nn.attention.flex_attention import create_block_mask

    if not causal:
        return None
    key = (n_frames, window, str(device))
    if key not in _BLOCK_MASKS:
        span = n_frames if window is None else window

        def causal_window(batch, head, query, key_index):
            return (key_index <= query) & (query - key_index < span)

        _BLOCK_MASKS[key] = create_block_mask(
            causal_window, None, None, n_frames, n_frames, device=device
        )
    return _BLOCK_MASKS[key]


def flex_sink_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, window: int | None,
    sink: torch.Tensor | None,
) -> torch.Tensor:
    """FlexAttention with a block mask; the sink is applied as ``out * sigmoid(lse - sink)``."""
    try:
        from torch.nn.attention.flex_attention import AuxRequest, flex_attention
    except ImportError as error:  # pragma: no cover - depends on the torch build
        raise LiveBandError(f"attention backend 'flex': FlexAttention unavailable ({error})") from error
    if q.device.type == "cpu" and torch.is_grad_enabled() and (q.requires_grad or k.requires_grad):
        raise LiveBandError(
            "attention backend 'flex': torch 2.13 has no FlexAttention backward on CPU; "
            "train on CPU with attn_backend 'sdpa' or 'explicit'"
        )
    block_mask = _flex_block_mask(q.shape[-2], causal, window, q.device)
    if sink is None:
        return flex_attention(q, k, v, block_mask=block_mask)
    out, aux = flex_attention(q, k, v, block_mask=block_mask, return_aux=AuxRequest(lse=True))
    keep = torch.sigmoid(aux.lse.float() - sink.float().view(1, -1, 1))  # (B, H, T)
    return out * keep.unsqueeze(-1).to(out.dtype)


class RollingKVCache:
    """The last ``window`` rotated keys and values of one attention layer, in a fixed ring buffer.

    Memory never grows: frame ``t`` overwrites slot ``t % window``. Slot order does not matter
    because positions are already encoded in the keys by RoPE and softmax ignores key order.
    ``bias`` (1, H, 1, slots) is added to the scores: ``-inf`` for slots not yet written. With
    ``sink=True`` one extra slot past the ring holds a zero key and value that is never
    overwritten, and its bias entry holds the sink logit, so the step is one SDPA call.

    The frame counter is a tensor and ``append`` only does tensor ops (no Python branch on the
    frame index), so a compiled step is one graph for every frame instead of one per slot.
    """

    def __init__(
        self, batch_size: int, n_heads: int, head_dim: int, window: int, sink: bool = False,
        device: torch.device | None = None, dtype: torch.dtype = torch.float32,
    ):
        slots = window + int(sink)
        self.window = window
        self.sink = sink
        self.keys = torch.zeros(batch_size, n_heads, slots, head_dim, device=device, dtype=dtype)
        self.values = torch.zeros(batch_size, n_heads, slots, head_dim, device=device, dtype=dtype)
        self.bias = torch.zeros(1, n_heads, 1, slots, device=device, dtype=dtype)
        self.frames_seen = torch.zeros(1, dtype=torch.long, device=device)  # (1,) unbounded count
        self.reset()

    @property
    def length(self) -> int:
        """Frames seen so far (unbounded); only the last ``window`` are kept."""
        return int(self.frames_seen)

    @property
    def full(self) -> bool:
        return self.length >= self.window

    def append(self, key: torch.Tensor, value: torch.Tensor) -> None:  # (B, H, 1, Dh) each
        slot = self.frames_seen.remainder(self.window)  # (1,)
        self.keys.index_copy_(2, slot, key)
        self.values.index_copy_(2, slot, value)
        self.bias.index_fill_(3, slot, 0.0)  # the slot is visible from now on (already 0 once full)
        self.frames_seen.add_(1)

    def set_sink(self, sink_logit: torch.Tensor) -> None:  # (H,)
        self.bias[0, :, 0, self.window].copy_(sink_logit)

    def reset(self) -> None:
        self.keys.zero_()
        self.values.zero_()
        self.bias[..., : self.window].fill_(float("-inf"))
        self.frames_seen.zero_()


class SelfAttention(nn.Module):
    """Multi-head self-attention with RoPE, optional QK-norm (RMSNorm per head on q and k) and sink.

    ``forward`` processes a whole sequence under a mask (training, offline); ``step`` processes one
    frame against a ``RollingKVCache`` (streaming). Both give the same numbers for the same frames.
    ``bias`` adds biases to the q/k/v and output projections; ``dropout`` (attention weights, in
    training mode) needs the ``"sdpa"`` backend.
    """

    def __init__(
        self, dim: int, n_heads: int, *, sink: bool = False, backend: str = "sdpa",
        qk_norm: bool = True, bias: bool = False, dropout: float = 0.0, qk_norm_eps: float = 1e-6,
    ):
        super().__init__()
        if dim % n_heads:
            raise LiveBandError(f"attention: dim {dim} is not divisible by n_heads {n_heads}")
        if backend not in BACKENDS:
            raise LiveBandError(f"attention: backend {backend!r} is not one of {BACKENDS}")
        if dropout and backend != "sdpa":
            raise LiveBandError(f"attention: dropout needs backend 'sdpa', not {backend!r}")
        self.n_heads = n_heads
        self.head_dim = dim // n_heads
        self.backend = backend
        self.dropout = dropout
        self.qkv = nn.Linear(dim, 3 * dim, bias=bias)
        self.out = nn.Linear(dim, dim, bias=bias)
        self.q_norm = nn.RMSNorm(self.head_dim, eps=qk_norm_eps) if qk_norm else None
        self.k_norm = nn.RMSNorm(self.head_dim, eps=qk_norm_eps) if qk_norm else None
        self.sink_logit = nn.Parameter(torch.zeros(n_heads)) if sink else None  # (H,)

    def _project(self, x: torch.Tensor, rope: RotaryAngles):
        batch, frames, _ = x.shape
        qkv = self.qkv(x).view(batch, frames, 3, self.n_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # (B, H, T, Dh) each
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        return apply_rotary(q, rope), apply_rotary(k, rope), v

    def _merge(self, heads: torch.Tensor) -> torch.Tensor:  # (B, H, T, Dh) -> (B, T, D)
        batch, _, frames, _ = heads.shape
        return self.out(heads.transpose(1, 2).reshape(batch, frames, -1))

    def forward(
        self, x: torch.Tensor, rope: RotaryAngles, causal: bool = True, window: int | None = None
    ) -> torch.Tensor:  # x (B, T, D) -> (B, T, D)
        q, k, v = self._project(x, rope)
        if self.backend == "flex":
            return self._merge(flex_sink_attention(q, k, v, causal, window, self.sink_logit))
        mask = attention_mask(x.shape[1], causal, window, x.device)  # (T, T) or None
        if self.backend == "explicit":
            return self._merge(reference_sink_attention(q, k, v, mask, self.sink_logit))
        plain_causal = causal and (window is None or window >= x.shape[1])
        dropout_p = self.dropout if self.training else 0.0
        return self._merge(sdpa_sink_attention(q, k, v, mask, self.sink_logit, plain_causal, dropout_p))

    def new_cache(
        self, batch_size: int, window: int, device: torch.device | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> RollingKVCache:
        sink = self.sink_logit is not None
        return RollingKVCache(batch_size, self.n_heads, self.head_dim, window, sink, device, dtype)

    def step(self, x: torch.Tensor, rope: RotaryAngles, cache: RollingKVCache) -> torch.Tensor:
        """One frame ``x`` (B, 1, D) at the position encoded in ``rope``; updates ``cache``."""
        q, k, v = self._project(x, rope)  # (B, H, 1, Dh)
        cache.append(k, v)
        if self.sink_logit is not None:
            cache.set_sink(self.sink_logit)  # re-read each step: the parameter may have moved
        heads = F.scaled_dot_product_attention(q, cache.keys, cache.values, attn_mask=cache.bias)
        return self._merge(heads)  # (B, 1, D)
