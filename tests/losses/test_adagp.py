"""AdaGP: direction and size of the log-space update, clamping, resumption, fixed mode."""

from __future__ import annotations

import math

import pytest
import torch

from liveband.errors import LiveBandError
from liveband.losses.adagp import AdaptiveGradientPenalty, FixedGradientPenalty


def test_weight_moves_up_when_advantage_above_target_by_the_log_space_rule():
    adagp = AdaptiveGradientPenalty(initial_weight=2.0, target_advantage=0.5, step_size=0.1)
    new = adagp.update(1.5)
    assert new == pytest.approx(2.0 * math.exp(0.1 * (1.5 - 0.5)))
    assert adagp.weight == pytest.approx(new)


def test_weight_moves_down_when_advantage_below_target():
    adagp = AdaptiveGradientPenalty(initial_weight=2.0, target_advantage=0.5, step_size=0.1)
    assert adagp.update(torch.tensor(-0.5)) == pytest.approx(2.0 * math.exp(-0.1))
    assert adagp.update(0.5) == pytest.approx(2.0 * math.exp(-0.1))  # at target: no move


def test_weight_is_clamped():
    adagp = AdaptiveGradientPenalty(1.0, 0.0, step_size=1.0, min_weight=0.5, max_weight=4.0)
    for _ in range(10):
        adagp.update(100.0)
    assert adagp.weight == pytest.approx(4.0)
    for _ in range(10):
        adagp.update(-100.0)
    assert adagp.weight == pytest.approx(0.5)


def test_state_dict_resumes_the_same_trajectory():
    advantages = [0.9, 0.1, 1.4, -0.3, 0.7, 0.2]
    first = AdaptiveGradientPenalty(1.0, 0.6, 0.05)
    for a in advantages[:3]:
        first.update(a)
    resumed = AdaptiveGradientPenalty(1.0, 0.6, 0.05)
    resumed.load_state_dict(first.state_dict())
    for a in advantages[3:]:
        assert resumed.update(a) == pytest.approx(first.update(a), rel=1e-12)


def test_fixed_mode_never_moves_and_has_the_same_interface():
    fixed = FixedGradientPenalty(0.3)
    for a in (5.0, -5.0, torch.tensor(2.0)):
        assert fixed.update(a) == 0.3
    assert fixed.weight == 0.3
    other = FixedGradientPenalty(1.0)
    other.load_state_dict(fixed.state_dict())
    assert other.weight == 0.3


def test_bad_settings_and_advantages_raise():
    with pytest.raises(LiveBandError):
        AdaptiveGradientPenalty(10.0, 0.5, 0.1, max_weight=1.0)
    with pytest.raises(LiveBandError):
        AdaptiveGradientPenalty(1.0, 0.5, -0.1)
    with pytest.raises(LiveBandError):
        AdaptiveGradientPenalty(1.0, 0.5, 0.1).update(float("nan"))
    with pytest.raises(LiveBandError):
        FixedGradientPenalty(-1.0)


def test_weight_is_frozen_during_warm_up_and_moves_after():
    adagp = AdaptiveGradientPenalty(2.0, 0.5, 0.1, adapt_after=3)
    for step in range(3):
        assert adagp.update(5.0, step) == 2.0
    assert adagp.update(5.0, 3) == pytest.approx(2.0 * math.exp(0.1 * 4.5))


def test_negative_adapt_after_is_refused():
    with pytest.raises(LiveBandError, match="adapt_after"):
        AdaptiveGradientPenalty(1.0, 0.0, 0.1, adapt_after=-1)
