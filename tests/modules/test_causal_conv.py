"""Causal conv layers: offline shapes, exact causality, and chunked streaming == one full pass."""

import pytest
import torch

from liveband.modules.causal_conv import (
    CausalConv1d,
    CausalConvTranspose1d,
    CausalFrames,
    OverlapAdd,
    StreamingSequential,
    causal_padding,
)
from liveband.utils.chunks import cycled_slices

CHUNKINGS = [[1], [3], [5, 1, 7, 2], [64], [1000]]  # sizes cycled until the signal is used up




def _stream(layer, x, sizes, batch_size=2):
    state = layer.init_state(batch_size)
    outs = [layer.push(x[..., s], state) for s in cycled_slices(x.shape[-1], sizes)]
    return torch.cat(outs, dim=-1 if outs[0].dim() == 3 else 2)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_causal_padding_formula():
    assert causal_padding(3) == 2
    assert causal_padding(3, dilation=4) == 8
    assert causal_padding(8, stride=4) == 4
    assert causal_padding(4, stride=4) == 0
    with pytest.raises(ValueError):
        causal_padding(2, stride=4)


@pytest.mark.parametrize(
    "kernel,stride,dilation", [(1, 1, 1), (3, 1, 1), (3, 1, 4), (8, 4, 1), (5, 2, 3), (4, 4, 1)]
)
@pytest.mark.parametrize("causal", [True, False])
def test_output_length_is_input_over_stride(kernel, stride, dilation, causal):
    conv = CausalConv1d(3, 5, kernel, stride=stride, dilation=dilation, causal=causal)
    assert conv(torch.randn(2, 3, 12 * stride)).shape == (2, 5, 12)


@pytest.mark.parametrize("kernel,stride,dilation", [(3, 1, 1), (3, 1, 4), (8, 4, 1), (5, 2, 3)])
def test_causal_output_ignores_future_and_sees_its_last_input(kernel, stride, dilation):
    conv = CausalConv1d(2, 3, kernel, stride=stride, dilation=dilation)
    x = torch.randn(1, 2, 16 * stride, requires_grad=True)
    j = 7
    conv(x)[0, :, j].sum().backward()
    last = (j + 1) * stride - 1  # newest sample output j may read
    assert torch.all(x.grad[..., last + 1 :] == 0)
    assert x.grad[..., last].abs().sum() > 0


def test_non_causal_is_centred_and_cannot_stream():
    conv = CausalConv1d(1, 1, 5, causal=False)
    x = torch.randn(1, 1, 20, requires_grad=True)
    conv(x)[0, 0, 10].backward()
    nonzero = (x.grad[0, 0] != 0).nonzero().flatten().tolist()
    assert nonzero == [8, 9, 10, 11, 12]
    with pytest.raises(RuntimeError):
        conv.init_state(1)


@pytest.mark.parametrize(
    "kernel,stride,dilation", [(1, 1, 1), (3, 1, 1), (3, 1, 4), (8, 4, 1), (5, 2, 3)]
)
@pytest.mark.parametrize("sizes", CHUNKINGS)
def test_conv_streaming_matches_offline(kernel, stride, dilation, sizes):
    conv = CausalConv1d(3, 4, kernel, stride=stride, dilation=dilation).eval()
    x = torch.randn(2, 3, 40 * stride + stride - 1)  # trailing partial stride stays buffered
    with torch.no_grad():
        full = conv(x[..., : 40 * stride])
        streamed = _stream(conv, x, sizes)
    assert streamed.shape == full.shape
    assert (streamed - full).abs().max() <= 1e-5


@pytest.mark.parametrize("sizes", CHUNKINGS)
def test_frames_streaming_matches_offline_and_end_on_block(sizes):
    frames = CausalFrames(16, 4)
    x = torch.randn(2, 1, 50)
    full = frames(x[..., :48])
    assert full.shape == (2, 1, 12, 16)
    # frame j holds samples ((j + 1) * hop - 16, (j + 1) * hop], zeros before the start
    assert torch.equal(full[:, :, 5], x[:, :, 24 - 16 : 24])
    assert torch.equal(full[:, :, 0, :12], torch.zeros(2, 1, 12))
    assert torch.equal(_stream(frames, x, sizes), full)


@pytest.mark.parametrize("kernel,stride", [(4, 4), (8, 4), (12, 3)])
@pytest.mark.parametrize("sizes", [[1], [2, 3], [100]])
def test_transposed_conv_is_causal_and_streams(kernel, stride, sizes):
    up = CausalConvTranspose1d(3, 2, kernel, stride).eval()
    torch.nn.init.normal_(up.bias)
    x = torch.randn(2, 3, 10, requires_grad=True)
    y = up(x)
    assert y.shape == (2, 2, 10 * stride)
    j = 4
    y[..., j * stride : (j + 1) * stride].sum().backward()
    assert torch.all(x.grad[..., j + 1 :] == 0) and x.grad[..., j].abs().sum() > 0
    with torch.no_grad():
        assert (_stream(up, x.detach(), sizes) - y.detach()).abs().max() <= 1e-5


@pytest.mark.parametrize("sizes", [[1], [2, 1], [50]])
def test_overlap_add_streams_and_matches_a_direct_sum(sizes):
    ola = OverlapAdd(12, 4)
    frames = torch.randn(2, 1, 9, 12)
    expected = torch.zeros(2, 1, 9 * 4 + 8)
    for j in range(9):
        expected[..., j * 4 : j * 4 + 12] += frames[:, :, j]
    full = ola(frames)
    assert torch.allclose(full, expected[..., : 9 * 4], atol=1e-6)
    state = ola.init_state(2)
    streamed = torch.cat([ola.push(frames[:, :, s], state) for s in cycled_slices(9, sizes)], dim=-1)
    assert (streamed - full).abs().max() <= 1e-6


def test_sequential_streams_a_strided_stack_with_bounded_state():
    net = StreamingSequential(
        CausalConv1d(1, 4, 8, stride=4),
        torch.nn.GELU(),
        CausalConv1d(4, 4, 3, dilation=2),
        CausalConv1d(4, 2, 4, stride=2),
    ).eval()
    x = torch.randn(2, 1, 8 * 300)
    state = net.init_state(2)
    with torch.no_grad():
        full = net(x)
        streamed = torch.cat(
            [net.push(x[..., s], state) for s in cycled_slices(x.shape[-1], [5, 11, 1])], dim=-1
        )
    assert (streamed - full).abs().max() <= 1e-5
    buffered = [s.samples.shape[-1] for s in state if s is not None]
    assert max(buffered) < 8  # never more than one receptive span


def test_push_rejects_another_batch_size():
    conv = CausalConv1d(1, 1, 3)
    state = conv.init_state(2)
    with pytest.raises(ValueError):
        conv.push(torch.randn(3, 1, 4), state)


@pytest.mark.parametrize("kernel,dilation", [(3, 1), (3, 4), (7, 1)])
@pytest.mark.parametrize("sizes", [[1], [2, 9], [500]])  # short pushes take the per-tap path
def test_depthwise_streaming_matches_offline(kernel, dilation, sizes):
    conv = CausalConv1d(6, 6, kernel, dilation=dilation, groups=6).eval()
    x = torch.randn(2, 6, 120)
    with torch.no_grad():
        assert (_stream(conv, x, sizes) - conv(x)).abs().max() <= 1e-5
