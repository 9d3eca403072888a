"""Multi-resolution STFT objective: spectral convergence plus log-magnitude L1, at several resolutions.

`multi_resolution_stft_distance` gives the per-item value (usable as a metric);
`MultiResolutionSTFTLoss` averages it over the batch as a training loss. Audio is (B, C, T);
channels are treated as part of one item.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from liveband.errors import LiveBandError

DEFAULT_FFT_SIZES = (512, 1024, 2048)


def stft_magnitude(audio: Tensor, n_fft: int, hop: int, eps: float = 1e-7) -> Tensor:
    """(B, C, T) -> (B, C, bins, frames) Hann-windowed STFT magnitude, floored at `eps`."""
    B, C, T = audio.shape
    window = torch.hann_window(n_fft, device=audio.device, dtype=audio.dtype)
    spec = torch.stft(
        audio.reshape(B * C, T), n_fft, hop_length=hop, window=window,
        center=True, pad_mode="constant", return_complex=True,
    )  # fmt: skip
    return spec.abs().clamp_min(eps).reshape(B, C, *spec.shape[-2:])


def stft_terms(
    pred: Tensor, target: Tensor, n_fft: int, hop: int, eps: float = 1e-7
) -> tuple[Tensor, Tensor]:
    """Per-item spectral convergence and mean log-magnitude L1 at one resolution: each (B,)."""
    pred_mag, target_mag = (
        stft_magnitude(pred, n_fft, hop, eps),
        stft_magnitude(target, n_fft, hop, eps),
    )
    diff = (target_mag - pred_mag).flatten(1)  # (B, C * bins * frames)
    convergence = diff.norm(dim=1) / target_mag.flatten(1).norm(dim=1)  # (B,)
    log_magnitude = (target_mag.log() - pred_mag.log()).abs().flatten(1).mean(dim=1)  # (B,)
    return convergence, log_magnitude


def _check(pred: Tensor, target: Tensor) -> None:
    if pred.shape != target.shape or pred.dim() != 3:
        raise LiveBandError(
            f"stft loss: expected two equal (B, C, T) shapes, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )


def multi_resolution_stft_distance(
    pred: Tensor,
    target: Tensor,
    fft_sizes: Sequence[int] = DEFAULT_FFT_SIZES,
    hop_sizes: Sequence[int] | None = None,
    eps: float = 1e-7,
) -> Tensor:
    """(B, C, T) pair -> (B,): spectral convergence + log-magnitude L1, averaged over resolutions.

    Hops default to a quarter of each FFT size. Zero for identical inputs; not symmetric.
    """
    _check(pred, target)
    hop_sizes = [n // 4 for n in fft_sizes] if hop_sizes is None else hop_sizes
    if len(hop_sizes) != len(fft_sizes):
        raise LiveBandError("stft loss: fft_sizes and hop_sizes differ in length")
    total = pred.new_zeros(pred.shape[0])
    for n_fft, hop in zip(fft_sizes, hop_sizes, strict=True):
        convergence, log_magnitude = stft_terms(pred, target, n_fft, hop, eps)
        total = total + convergence + log_magnitude
    return total / len(fft_sizes)


class MultiResolutionSTFTLoss(nn.Module):
    """Batch mean of `multi_resolution_stft_distance`: a scalar training loss."""

    def __init__(
        self,
        fft_sizes: Sequence[int] = DEFAULT_FFT_SIZES,
        hop_sizes: Sequence[int] | None = None,
        eps: float = 1e-7,
    ):
        super().__init__()
        self.fft_sizes = tuple(fft_sizes)
        self.hop_sizes = tuple(n // 4 for n in fft_sizes) if hop_sizes is None else tuple(hop_sizes)
        self.eps = eps

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        return multi_resolution_stft_distance(
            pred, target, self.fft_sizes, self.hop_sizes, self.eps
        ).mean()
