"""Scale-invariant signal-to-distortion ratio (SI-SDR, Le Roux et al. 2019), in dB, batched."""

from __future__ import annotations

import torch
from torch import Tensor

from liveband.errors import LiveBandError


def si_sdr(
    estimate: Tensor, reference: Tensor, zero_mean: bool = True, eps: float = 1e-8
) -> Tensor:
    """SI-SDR in dB over the last axis: (..., T), (..., T) -> (...).

    The reference is scaled by the least-squares gain ``<s, r> / <r, r>``; the ratio is the
    energy of that scaled reference over the energy of what remains of the estimate.
    `zero_mean` removes each signal's mean first (the usual definition); `eps` keeps silent
    references and perfect estimates finite.
    """
    if estimate.shape != reference.shape:
        raise LiveBandError(
            f"si_sdr: estimate shape {tuple(estimate.shape)} != reference shape {tuple(reference.shape)}"
        )
    if estimate.shape[-1] == 0:
        raise LiveBandError("si_sdr: signals are empty")
    if zero_mean:
        estimate = estimate - estimate.mean(dim=-1, keepdim=True)
        reference = reference - reference.mean(dim=-1, keepdim=True)
    gain = (estimate * reference).sum(-1, keepdim=True) / (
        reference.pow(2).sum(-1, keepdim=True) + eps
    )
    target = gain * reference  # (..., T) the part of the estimate explained by the reference
    residual = estimate - target  # (..., T)
    return 10 * torch.log10((target.pow(2).sum(-1) + eps) / (residual.pow(2).sum(-1) + eps))
