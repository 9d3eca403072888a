"""Multi-resolution STFT loss and distance: values on known cases, gradients, bad input."""

import math

import pytest
import torch

from liveband.errors import LiveBandError
from liveband.losses.spectral import (
    MultiResolutionSTFTLoss,
    multi_resolution_stft_distance,
    stft_terms,
)


def _sine(freq, n=4096, sr=8000, amp=0.5):
    t = torch.arange(n) / sr
    return (amp * torch.sin(2 * math.pi * freq * t)).reshape(1, 1, -1)


def test_identical_signals_give_zero():
    x = torch.randn(2, 2, 3000)
    assert torch.allclose(multi_resolution_stft_distance(x, x), torch.zeros(2))


def test_gain_error_matches_closed_form():
    # halving the signal: convergence = ||0.5 S|| / ||S|| = 0.5, log term = log 2 (no floored bins)
    target = _sine(440) + 0.1 * torch.randn(1, 1, 4096)
    convergence, log_magnitude = stft_terms(0.5 * target, target, n_fft=256, hop=64)
    assert convergence.item() == pytest.approx(0.5, abs=1e-5)
    assert log_magnitude.item() == pytest.approx(math.log(2), abs=1e-4)


def test_distance_is_per_item_and_orders_errors():
    target = torch.cat([_sine(440), _sine(440)])  # (2, 1, T)
    pred = torch.cat([_sine(440, amp=0.45), _sine(1200)])  # small vs large error
    d = multi_resolution_stft_distance(pred, target, fft_sizes=(128, 256, 512))
    assert d.shape == (2,)
    assert 0 < d[0] < d[1]


def test_loss_is_batch_mean_and_differentiable():
    target = torch.randn(3, 1, 2048)
    pred = torch.randn(3, 1, 2048, requires_grad=True)
    loss_fn = MultiResolutionSTFTLoss(fft_sizes=(64, 256), hop_sizes=(16, 64))
    loss = loss_fn(pred, target)
    expected = multi_resolution_stft_distance(pred, target, (64, 256), (16, 64)).mean()
    assert loss.shape == () and torch.allclose(loss, expected)
    loss.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0


def test_silence_prediction_stays_finite():
    loss = MultiResolutionSTFTLoss()(torch.zeros(1, 1, 4096, requires_grad=True), _sine(300))
    assert torch.isfinite(loss)


def test_mismatched_shapes_raise():
    with pytest.raises(LiveBandError, match="shapes"):
        multi_resolution_stft_distance(torch.zeros(1, 1, 100), torch.zeros(1, 1, 101))
    with pytest.raises(LiveBandError, match="shapes"):
        multi_resolution_stft_distance(torch.zeros(1, 100), torch.zeros(1, 100))
    with pytest.raises(LiveBandError, match="hop_sizes"):
        multi_resolution_stft_distance(
            torch.zeros(1, 1, 100), torch.zeros(1, 1, 100), (64, 128), (16,)
        )
