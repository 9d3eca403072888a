"""Anticipation: pair mix frames <= t with the accompaniment frame t + tau, for both models.

LiveBand's generator and the SMG baseline are trained alike: output t is compared with (or, for
SMG, predicts the codes of) accompaniment frame t + tau, from mix frames <= t.
"""

from __future__ import annotations

import torch

from liveband.errors import LiveBandError


def anticipation_pairs(
    mix: torch.Tensor, target: torch.Tensor, anticipation_frames: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Align a crop so output t is trained against target t + tau from mix frames <= t.

    mix (B, T, D) and target (B, T, ...) (latents or codes) of the same frames ->
    (mix[:, :T - tau], target[:, tau:]), both T - tau frames long. Feed the first to the causal
    model and compare its output with the second. To train on N output frames, crop N + tau frames.
    """
    tau = int(anticipation_frames)
    if mix.shape[:2] != target.shape[:2]:
        raise LiveBandError(
            f"anticipation: mix {tuple(mix.shape)} and target {tuple(target.shape)} are not the "
            "same (batch, frames)"
        )
    if not 0 <= tau < mix.shape[1]:
        raise LiveBandError(f"anticipation: {tau} frames does not fit a crop of {mix.shape[1]}")
    return mix[:, : mix.shape[1] - tau], target[:, tau:]
