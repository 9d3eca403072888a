"""anticipation_pairs: one alignment for latents (generator) and codes (SMG)."""

import pytest
import torch

from liveband.errors import LiveBandError
from liveband.models.anticipation import anticipation_pairs


@pytest.mark.parametrize("tau", [0, 2])
def test_codes_target_row_t_is_frame_t_plus_tau(tau):
    mix = torch.arange(6.0).view(1, 6, 1).expand(1, 6, 3)  # (B, T, D), frame index in every channel
    codes = torch.arange(6).view(1, 6, 1).expand(1, 6, 2)  # (B, T, K)
    mix_in, target = anticipation_pairs(mix, codes, tau)
    assert mix_in.shape == (1, 6 - tau, 3) and target.shape == (1, 6 - tau, 2)
    assert mix_in[0, :, 0].tolist() == list(range(6 - tau))
    assert target[0, :, 0].tolist() == list(range(tau, 6))


def test_anticipation_pairs_rejects_bad_input():
    x = torch.zeros(1, 4, 2)
    with pytest.raises(LiveBandError):
        anticipation_pairs(x, torch.zeros(1, 5, 2), 1)  # frames differ
    with pytest.raises(LiveBandError):
        anticipation_pairs(x, torch.zeros(2, 4, 2), 1)  # batch differs
    with pytest.raises(LiveBandError):
        anticipation_pairs(x, x, 4)  # no frame left
