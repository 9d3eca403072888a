"""SI-SDR against a hand-computed case, its invariances, and batching."""

import math

import pytest
import torch

from liveband.errors import LiveBandError
from liveband.metrics.sisdr import si_sdr


def test_hand_computed_case():
    # r = [1, 0, -1], s = 2 r + [1, -2, 1] (both zero-mean, noise orthogonal to r):
    # gain = <s, r> / <r, r> = 4 / 2 = 2, target = [2, 0, -2] (energy 8), residual energy 6
    reference = torch.tensor([1.0, 0.0, -1.0])
    estimate = torch.tensor([3.0, -2.0, -1.0])
    assert si_sdr(estimate, reference).item() == pytest.approx(10 * math.log10(8 / 6), abs=1e-5)


def test_hand_computed_case_with_mean_removal():
    # adding offsets changes nothing when means are removed, and does without
    reference = torch.tensor([1.0, 0.0, -1.0]) + 5
    estimate = torch.tensor([3.0, -2.0, -1.0]) - 2
    assert si_sdr(estimate, reference).item() == pytest.approx(10 * math.log10(8 / 6), abs=1e-5)
    assert si_sdr(estimate, reference, zero_mean=False).item() != pytest.approx(
        10 * math.log10(8 / 6), abs=0.1
    )


def test_scale_invariance_and_perfect_estimate():
    torch.manual_seed(0)
    reference = torch.randn(1000)
    estimate = reference + 0.1 * torch.randn(1000)
    base = si_sdr(estimate, reference)
    assert si_sdr(3.7 * estimate, reference).item() == pytest.approx(base.item(), abs=1e-3)
    assert si_sdr(estimate, 0.2 * reference).item() == pytest.approx(base.item(), abs=1e-3)
    assert si_sdr(reference, reference) > 60


def test_batched_shapes_match_loop():
    torch.manual_seed(1)
    reference = torch.randn(4, 2, 500)
    estimate = reference + torch.randn(4, 2, 500) * torch.tensor([0.1, 1.0])[:, None]
    batched = si_sdr(estimate, reference)
    assert batched.shape == (4, 2)
    for b in range(4):
        for c in range(2):
            assert batched[b, c].item() == pytest.approx(
                si_sdr(estimate[b, c], reference[b, c]).item(), abs=1e-4
            )
    assert torch.all(batched[:, 0] > batched[:, 1])  # less noise, higher SI-SDR


def test_bad_input_raises():
    with pytest.raises(LiveBandError, match="shape"):
        si_sdr(torch.zeros(2, 10), torch.zeros(2, 11))
    with pytest.raises(LiveBandError, match="empty"):
        si_sdr(torch.zeros(2, 0), torch.zeros(2, 0))
