"""Attention: backends vs a hand-written sink softmax, masks, RoPE, the sink's effect, KV cache."""

from __future__ import annotations

import math

import pytest
import torch

from liveband.errors import LiveBandError
from liveband.modules.attention import (
    RollingKVCache,
    RotaryEmbedding,
    SelfAttention,
    apply_rotary,
    attention_mask,
    reference_sink_attention,
    sdpa_sink_attention,
)

pytestmark = pytest.mark.filterwarnings("ignore:flex_attention called without torch.compile")

B, H, T, DH = 2, 3, 9, 8


def flex_importable() -> bool:
    try:
        from torch.nn.attention.flex_attention import flex_attention  # noqa: F401
    except ImportError:
        return False
    return True


def hand_softmax_with_sink(q, k, v, allowed, sink):
    """Per (batch, head, query): softmax over [allowed scores..., sink], value 0 for the sink."""
    out = torch.zeros_like(q, dtype=torch.float64)
    for b in range(q.shape[0]):
        for h in range(q.shape[1]):
            for i in range(q.shape[2]):
                keys = [j for j in range(k.shape[2]) if allowed is None or bool(allowed[i, j])]
                logits = [float(q[b, h, i] @ k[b, h, j]) / math.sqrt(q.shape[-1]) for j in keys]
                extra = [float(sink[h])] if sink is not None else []
                top = max(logits + extra)
                weights = [math.exp(a - top) for a in logits]
                total = sum(weights) + sum(math.exp(a - top) for a in extra)
                for w, j in zip(weights, keys, strict=True):
                    out[b, h, i] += (w / total) * v[b, h, j].double()
    return out.float()


def random_qkv(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, H, T, DH, generator=g) for _ in range(3)]


MASKS = {
    "causal": (True, None),
    "window4": (True, 4),
    "bidirectional": (False, None),
}


def test_attention_mask_values():
    mask = attention_mask(5, causal=True, window=3)
    expected = torch.tensor(
        [
            [1, 0, 0, 0, 0],
            [1, 1, 0, 0, 0],
            [1, 1, 1, 0, 0],
            [0, 1, 1, 1, 0],
            [0, 0, 1, 1, 1],
        ],
        dtype=torch.bool,
    )
    assert torch.equal(mask, expected)
    assert torch.equal(attention_mask(4, True, None), torch.ones(4, 4, dtype=torch.bool).tril())
    assert attention_mask(4, False, 2) is None


@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("with_sink", [False, True])
def test_functional_backends_match_hand_softmax(mask_name, with_sink):
    q, k, v = random_qkv()
    causal, window = MASKS[mask_name]
    mask = attention_mask(T, causal, window)
    sink = torch.tensor([0.5, -1.0, 2.0]) if with_sink else None
    expected = hand_softmax_with_sink(q, k, v, mask, sink)
    assert torch.allclose(reference_sink_attention(q, k, v, mask, sink), expected, atol=1e-5)
    assert torch.allclose(sdpa_sink_attention(q, k, v, mask, sink), expected, atol=1e-5)
    if flex_importable():
        from liveband.modules.attention import flex_sink_attention

        with torch.no_grad():
            flex = flex_sink_attention(q, k, v, causal, window, sink)
        assert torch.allclose(flex, expected, atol=1e-5)


def test_sdpa_plain_causal_fast_path_matches_mask():
    q, k, v = random_qkv(1)
    mask = attention_mask(T, True, None)
    fast = sdpa_sink_attention(q, k, v, mask, None, plain_causal=True)
    assert torch.allclose(fast, hand_softmax_with_sink(q, k, v, mask, None), atol=1e-5)


def test_sink_gradients_agree_between_explicit_and_sdpa():
    q, k, v = random_qkv(2)
    mask = attention_mask(T, True, 4)
    grads = []
    for fn in (reference_sink_attention, sdpa_sink_attention):
        sink = torch.tensor([0.3, -0.2, 1.0], requires_grad=True)
        qq = q.clone().requires_grad_(True)
        fn(qq, k, v, mask, sink).square().sum().backward()
        grads.append((sink.grad, qq.grad))
    assert grads[0][0].abs().max() > 1e-3  # the sink does receive gradient
    assert torch.allclose(grads[0][0], grads[1][0], atol=1e-5)
    assert torch.allclose(grads[0][1], grads[1][1], atol=1e-5)


def test_large_sink_shrinks_output_and_very_negative_sink_is_no_sink():
    q, k, v = random_qkv(3)
    mask = attention_mask(T, True, None)
    plain = reference_sink_attention(q, k, v, mask, None)
    big = reference_sink_attention(q, k, v, mask, torch.full((H,), 30.0))
    tiny = reference_sink_attention(q, k, v, mask, torch.full((H,), -60.0))
    assert big.abs().max() < 1e-6 * plain.abs().max()
    assert torch.allclose(tiny, plain, atol=1e-6)
    mid = reference_sink_attention(q, k, v, mask, torch.zeros(H))
    assert (mid - plain).abs().max() > 1e-2  # a zero logit already changes the output
    assert mid.norm() < plain.norm()


def test_rope_scores_depend_only_on_relative_position():
    rotary = RotaryEmbedding(DH, base=10000.0)
    q, k, _ = random_qkv(4)
    positions = torch.arange(T)
    near = apply_rotary(q, rotary(positions)) @ apply_rotary(k, rotary(positions)).transpose(-1, -2)
    far_rope = rotary(positions + 5000)
    far = apply_rotary(q, far_rope) @ apply_rotary(k, far_rope).transpose(-1, -2)
    assert torch.allclose(near, far, atol=1e-3)
    # and RoPE is not a no-op: scores change when only the keys move
    moved = apply_rotary(q, rotary(positions)) @ apply_rotary(k, rotary(positions + 3)).transpose(
        -1, -2
    )
    assert (moved - near).abs().max() > 1e-2


def make_attention(backend: str, sink: bool, seed: int = 0) -> SelfAttention:
    torch.manual_seed(seed)
    attention = SelfAttention(24, 4, sink=sink, backend=backend).eval()
    with torch.no_grad():
        if sink:
            attention.sink_logit.normal_(0.0, 1.0)
        attention.q_norm.weight.normal_(1.0, 0.2)
    return attention


@pytest.mark.parametrize("sink", [False, True])
@pytest.mark.parametrize("mask_name", list(MASKS))
def test_module_backends_agree(sink, mask_name):
    causal, window = MASKS[mask_name]
    x = torch.randn(2, 11, 24)
    rope = RotaryEmbedding(6)(torch.arange(11))
    reference = make_attention("explicit", sink)
    backends = ["sdpa"] + (["flex"] if flex_importable() else [])
    with torch.no_grad():
        expected = reference(x, rope, causal, window)
        for backend in backends:
            other = make_attention(backend, sink)
            other.load_state_dict(reference.state_dict())
            assert torch.allclose(other(x, rope, causal, window), expected, atol=1e-5), backend


@pytest.mark.skipif(not flex_importable(), reason="FlexAttention does not import")
def test_flex_refuses_cpu_training_with_clear_error():
    attention = make_attention("flex", sink=True).train()
    x = torch.randn(1, 5, 24, requires_grad=True)
    with pytest.raises(LiveBandError, match="sdpa"):
        attention(x, RotaryEmbedding(6)(torch.arange(5)))


@pytest.mark.parametrize("sink", [False, True])
@pytest.mark.parametrize("backend", ["explicit", "sdpa"])
def test_step_with_rolling_cache_matches_sliding_window_forward(sink, backend):
    window, frames = 4, 13
    attention = make_attention(backend, sink)
    rotary = RotaryEmbedding(6)
    x = torch.randn(2, frames, 24)
    cache = attention.new_cache(2, window)
    with torch.no_grad():
        parallel = attention(x, rotary(torch.arange(frames)), True, window)
        steps = [
            attention.step(x[:, t : t + 1], rotary(torch.tensor([t])), cache) for t in range(frames)
        ]
        unwindowed = attention(x, rotary(torch.arange(frames)), True, None)
    streamed = torch.cat(steps, dim=1)
    assert (streamed - parallel).abs().max() <= 1e-5
    assert (streamed - unwindowed)[:, window:].abs().max() > 1e-3  # the window really matters


@pytest.mark.parametrize("sink", [False, True])
def test_rolling_cache_keeps_last_frames_in_fixed_memory(sink):
    cache = RollingKVCache(1, 1, 2, window=3, sink=sink)
    keys_ptr, values_ptr = cache.keys.data_ptr(), cache.values.data_ptr()
    for t in range(1, 11):
        frame = torch.full((1, 1, 1, 2), float(t))
        cache.append(frame, -frame)
        assert cache.full == (t >= 3)
    assert cache.keys.shape == (1, 1, 3 + int(sink), 2)
    assert (cache.keys.data_ptr(), cache.values.data_ptr()) == (keys_ptr, values_ptr)
    assert sorted(cache.keys[0, 0, :3, 0].tolist()) == [8.0, 9.0, 10.0]
    if sink:  # the sink slot is never overwritten: zero key and value, bias = sink logit
        assert torch.all(cache.keys[..., 3, :] == 0) and torch.all(cache.values[..., 3, :] == 0)
        cache.set_sink(torch.tensor([1.5]))
        assert cache.bias[0, 0, 0].tolist() == [0.0, 0.0, 0.0, 1.5]
    assert cache.length == 10
    cache.reset()
    assert cache.length == 0 and not cache.full and torch.isinf(cache.bias[..., :3]).all()


def test_bad_arguments_raise():
    with pytest.raises(LiveBandError):
        SelfAttention(10, 3)
    with pytest.raises(LiveBandError):
        SelfAttention(12, 3, backend="cuda-magic")
    with pytest.raises(LiveBandError):
        RotaryEmbedding(5)
