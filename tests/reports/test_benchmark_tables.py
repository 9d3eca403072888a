"""Table 3's caption states the weight the lazy R1/R2 schedule really applies."""

import pytest

from liveband.losses.r3gan import lazy_penalty_plan
from liveband.reports.benchmark_tables import lazy_penalty_note, tuned_note


@pytest.mark.parametrize("k", [2, 4])
def test_lazy_note_states_the_effective_weight_of_the_schedule(k):
    plans = [lazy_penalty_plan(step, k) for step in range(4 * k)]
    r1_per_step = sum(p.scale for p in plans if p.r1) / len(plans)    # weight per step in units of gamma
    r2_per_step = sum(p.scale for p in plans if p.r2) / len(plans)
    assert r1_per_step == r2_per_step == 0.5
    note = lazy_penalty_note(k)
    assert f"every {k} D steps" in note and "effective per-step weight is gamma/2" in note


def test_every_step_schedule_is_plain_r3gan():
    assert lazy_penalty_plan(3, 1).scale == 1.0
    assert "each with weight gamma" in lazy_penalty_note(1)


def test_tuned_weight_note_says_whether_it_is_adagps_start():
    assert tuned_note(5.0, 5.0).startswith("AdaGP's starting weight")
    assert tuned_note(1.0, 5.0) == "AdaGP starts at 5"
