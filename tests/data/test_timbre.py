"""Timbre variation: it changes the sound, but is causal and moves no onset."""

import numpy as np
import pytest

from liveband.config import TimbreParams
from liveband.data.timbre import apply_timbre, draw_timbre, reverb_ir

SR = 22050
STRONG = TimbreParams(eq_db=12.0, gain_db=6.0, reverb_wet=(0.3, 0.5), reverb_decay_s=(0.5, 1.0), detune_cents=20.0)


def _onsets(y, positions, window=0.2):
    """First sample of each event whose envelope passes 30% of the event's peak."""
    out = []
    for p in positions:
        lo, hi = p - int(window * SR), p + int(window * SR)
        env = np.abs(y[lo:hi])
        out.append(lo + int(np.argmax(env > 0.3 * env.max())))
    return np.array(out)


@pytest.mark.parametrize("seed", range(6))
def test_clicks_keep_their_onsets(seed):
    positions = [int(0.3 * SR), int(1.7 * SR), int(3.1 * SR)]
    clicks = np.zeros(4 * SR, dtype=np.float32)
    for p in positions:  # a short decaying click, like a drum hit
        clicks[p:p + 64] = np.exp(-np.arange(64) / 8.0)
    draw = draw_timbre(np.random.default_rng(seed), STRONG)
    out = apply_timbre(clicks, SR, draw)
    assert out.shape == clicks.shape and out.dtype == np.float32
    assert np.max(np.abs(out - clicks)) > 1e-3                     # the draw did change the sound
    assert np.max(np.abs(out[:positions[0] - 1])) < 1e-6           # causal: nothing before the first click
    assert np.sum(out[positions[0] + 2205:positions[1] - 100] ** 2) > 0  # a reverb tail
    shift = _onsets(out, positions) - _onsets(clicks, positions)
    assert np.all(np.abs(shift) <= SR // 1000), shift              # no onset moves by more than 1 ms


def test_draws_are_reproducible_and_within_their_ranges():
    a = draw_timbre(np.random.default_rng(4), STRONG)
    assert a == draw_timbre(np.random.default_rng(4), STRONG)
    assert 0.3 <= a["reverb_wet"] <= 0.5 and 0.5 <= a["reverb_decay_s"] <= 1.0
    assert abs(a["gain_db"]) <= 6 and abs(a["detune_cents"]) <= 20
    assert [b["kind"] for b in a["eq"]] == ["lowshelf", "peak", "highshelf"]


def test_reverb_decays_by_60_db_over_its_length():
    ir = reverb_ir(0.5, 1, SR)
    assert ir[0] == 0 and np.sum(ir ** 2) == pytest.approx(1.0)
    head, tail = np.abs(ir[1:500]).max(), np.abs(ir[-500:]).max()
    assert 20 * np.log10(head / tail) > 45
