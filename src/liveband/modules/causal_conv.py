"""Causal (or centred) 1-D convolutions that can also run on a stream, chunk by chunk.

Causal padding is defined once, in `causal_padding`: a layer reading windows of `span` input
samples every `stride` samples gets ``span - stride`` zeros on the left, so output j sees the
input up to sample ``(j + 1) * stride - 1`` and no further, and an input of length T (a multiple
of the stride) gives T // stride outputs. The upsampling direction (`CausalConvTranspose1d`,
`OverlapAdd`) writes input j into the samples from ``j * stride`` onward and keeps the part that
overhangs the current block for the next call.

Streaming state is explicit: ``state = layer.init_state(batch_size)`` returns a small state
object and ``layer.push(chunk, state)`` returns every output the chunk completes, updating the
state in place. Feeding a signal in any chunking gives the same outputs as one `forward` pass.
Tensors are (B, C, T) unless said otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def causal_padding(kernel_size: int, stride: int = 1, dilation: int = 1) -> int:
    """Left zeros that align output j with the input block ``[j * stride, (j + 1) * stride)``."""
    span = (kernel_size - 1) * dilation + 1  # input samples one output reads
    if span < stride:
        raise ValueError(
            f"receptive span {span} is shorter than stride {stride}: input would be skipped"
        )
    return span - stride


@dataclass
class InputBuffer:
    """Streaming state of a windowed layer: the input it still needs (left context + partial stride)."""

    batch_size: int
    samples: Tensor | None = None  # (B, C, L), L < span; None until the first chunk


@dataclass
class OverlapBuffer:
    """Streaming state of an upsampling layer: the output already written past the last emitted block."""

    batch_size: int
    tail: Tensor | None = None  # (B, C, overhang); None until the first chunk


def _check_batch(state, x: Tensor) -> None:
    if x.shape[0] != state.batch_size:
        raise ValueError(f"stream was opened for batch size {state.batch_size}, got {x.shape[0]}")


class _Windowed(nn.Module):
    """Base of layers whose output j reads `span` input samples starting at ``j * stride`` (after padding)."""

    def __init__(self, kernel_size: int, stride: int, dilation: int, causal: bool):
        super().__init__()
        self.kernel_size, self.stride, self.dilation, self.causal = (
            kernel_size,
            stride,
            dilation,
            causal,
        )
        self.span = (kernel_size - 1) * dilation + 1
        self.padding = causal_padding(kernel_size, stride, dilation)
        # causal: all padding on the left; otherwise centred (the extra sample, if any, on the left)
        right = 0 if causal else self.padding // 2
        self._pad = (self.padding - right, right)

    def pad(self, x: Tensor) -> Tensor:
        """Offline padding: (B, C, T) -> (B, C, T + padding)."""
        return F.pad(x, self._pad) if self.padding else x

    def init_state(self, batch_size: int) -> InputBuffer:
        if not self.causal:
            raise RuntimeError("a non-causal layer needs future input and cannot stream")
        return InputBuffer(batch_size)

    def _take(self, x: Tensor, state: InputBuffer) -> Tensor | None:
        """Append a chunk; return the buffered input covering exactly the newly completed outputs."""
        _check_batch(state, x)
        if state.samples is None:  # the stream starts on the same zeros as the offline padding
            state.samples = x.new_zeros(x.shape[0], x.shape[1], self.padding)
        buffer = torch.cat([state.samples, x], dim=-1) if x.shape[-1] else state.samples
        n_out = (
            (buffer.shape[-1] - self.span) // self.stride + 1
            if buffer.shape[-1] >= self.span
            else 0
        )
        state.samples = buffer[..., n_out * self.stride :]  # < span samples: bounded memory
        if n_out == 0:
            return None
        return buffer[..., : (n_out - 1) * self.stride + self.span]


class CausalConv1d(_Windowed):
    """Conv1d with causal (left-only) or centred padding, stride and dilation; streams when causal.

    Output length is ``T // stride`` for T a multiple of the stride.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        causal: bool = True,
    ):
        super().__init__(kernel_size, stride, dilation, causal)
        self.conv = nn.Conv1d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            dilation=dilation,
            groups=groups,
            bias=bias,
        )
        self._depthwise = groups == in_channels == out_channels and stride == 1

    def forward(self, x: Tensor) -> Tensor:  # (B, C_in, T) -> (B, C_out, T // stride)
        return self.conv(self.pad(x))

    def push(self, x: Tensor, state: InputBuffer) -> Tensor:
        """Stream a chunk (B, C_in, n) of any length; returns the (B, C_out, k) outputs it completes."""
        window = self._take(x, state)
        if window is None:
            return x.new_zeros(x.shape[0], self.conv.out_channels, 0)
        if self._depthwise and window.shape[-1] - self.span < 16:
            return self._depthwise_steps(window)
        return self.conv(window)

    def _depthwise_steps(self, window: Tensor) -> Tensor:
        """Depthwise conv of a short (B, C, L) window as an explicit sum over taps.

        A streaming step yields a few outputs, where the setup of a conv call costs more than
        the arithmetic; this gives the same values as `self.conv` up to float rounding.
        """
        taps = window.unfold(-1, self.span, 1)[..., :: self.dilation]  # (B, C, n, kernel)
        y = torch.einsum("bcnk,ck->bcn", taps, self.conv.weight[:, 0])  # (B, C, n)
        return y if self.conv.bias is None else y + self.conv.bias[:, None]


class CausalFrames(_Windowed):
    """Cuts a signal into frames of `frame_length` every `hop` samples.

    Causal: frame j ends at sample ``(j + 1) * hop - 1`` (zeros before the signal start).
    """

    def __init__(self, frame_length: int, hop: int, causal: bool = True):
        super().__init__(frame_length, hop, 1, causal)

    def forward(self, x: Tensor) -> Tensor:  # (B, C, T) -> (B, C, T // hop, frame_length)
        return self.pad(x).unfold(-1, self.span, self.stride)

    def push(self, x: Tensor, state: InputBuffer) -> Tensor:
        """Stream a chunk (B, C, n); returns the (B, C, k, frame_length) frames it completes."""
        window = self._take(x, state)
        if window is None:
            return x.new_zeros(x.shape[0], x.shape[1], 0, self.span)
        return window.unfold(-1, self.span, self.stride)


def _carry(full: Tensor, n_out: int, state: OverlapBuffer) -> Tensor:
    """Add the carried overhang to the head of `full` (B, C, n_out + overhang), emit n_out, keep the rest."""
    _check_batch(state, full)
    overhang = full.shape[-1] - n_out
    if state.tail is not None and overhang:
        full[..., :overhang] += state.tail
    state.tail = full[..., n_out:]
    return full[..., :n_out]


class OverlapAdd(nn.Module):
    """Causal overlap-add of frames of `frame_length` placed every `hop` samples (an inverse STFT's last step).

    Frame j covers samples ``[j * hop, j * hop + frame_length)``; offline the overhang past the last
    hop is dropped, so n frames give n * hop samples. `frame_length` must be a multiple of `hop`.
    """

    def __init__(self, frame_length: int, hop: int):
        super().__init__()
        if frame_length % hop:
            raise ValueError(f"frame length {frame_length} is not a multiple of hop {hop}")
        self.frame_length, self.hop = frame_length, hop

    def _full(self, frames: Tensor) -> Tensor:  # (B, C, n, N) -> (B, C, (n - 1) * hop + N)
        B, C, n, N = frames.shape
        overlap = N // self.hop
        blocks = frames.reshape(B, C, n, overlap, self.hop)
        out = frames.new_zeros(B, C, n + overlap - 1, self.hop)
        for r in range(overlap):  # block r of frame j lands in output block j + r
            out[:, :, r : r + n] += blocks[:, :, :, r]
        return out.reshape(B, C, (n + overlap - 1) * self.hop)

    def forward(self, frames: Tensor) -> Tensor:  # (B, C, n, N) -> (B, C, n * hop)
        return self._full(frames)[..., : frames.shape[2] * self.hop]

    def init_state(self, batch_size: int) -> OverlapBuffer:
        return OverlapBuffer(batch_size)

    def push(self, frames: Tensor, state: OverlapBuffer) -> Tensor:
        """Stream (B, C, n, N) frames; returns the (B, C, n * hop) samples they complete."""
        if frames.shape[2] == 0:
            return frames.new_zeros(frames.shape[0], frames.shape[1], 0)
        return _carry(self._full(frames), frames.shape[2] * self.hop, state)


class CausalConvTranspose1d(nn.Module):
    """Upsampling transposed conv: input j writes output samples ``[j * stride, j * stride + kernel)``.

    Computed as a per-step linear map to a (C_out, kernel) frame followed by `OverlapAdd`
    (faster on CPU than torch's transposed conv), so `kernel` must be a multiple of `stride`.
    Offline, the overhang past the last block is dropped: T inputs give T * stride outputs and
    output block j depends only on inputs <= j. Streaming carries the overhang to the next chunk.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int, bias: bool = True
    ):
        super().__init__()
        self.out_channels, self.kernel_size = out_channels, kernel_size
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)  # the torch default for conv weights
        self.overlap_add = OverlapAdd(kernel_size, stride)

    def _frames(self, x: Tensor) -> Tensor:  # (B, C_in, T) -> (B, C_out, T, kernel)
        B, _, T = x.shape
        frames = x.transpose(1, 2) @ self.weight.flatten(1)  # (B, T, C_out * kernel)
        return frames.view(B, T, self.out_channels, self.kernel_size).transpose(1, 2)

    def _biased(self, y: Tensor) -> Tensor:
        # bias is added after the overlap so that carried tails do not count it twice
        return y if self.bias is None else y + self.bias[:, None]

    def forward(self, x: Tensor) -> Tensor:  # (B, C_in, T) -> (B, C_out, T * stride)
        return self._biased(self.overlap_add(self._frames(x)))

    def init_state(self, batch_size: int) -> OverlapBuffer:
        return OverlapBuffer(batch_size)

    def push(self, x: Tensor, state: OverlapBuffer) -> Tensor:
        """Stream a chunk (B, C_in, n); returns (B, C_out, n * stride)."""
        return self._biased(self.overlap_add.push(self._frames(x), state))


class StreamingSequential(nn.Sequential):
    """A chain of layers that streams: children with `push` keep a state, the others act per time step."""

    def init_state(self, batch_size: int) -> list:
        return [m.init_state(batch_size) if hasattr(m, "push") else None for m in self]

    def push(self, x: Tensor, state: list) -> Tensor:
        for module, module_state in zip(self, state, strict=True):
            x = module(x) if module_state is None else module.push(x, module_state)
        return x
