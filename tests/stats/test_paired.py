import itertools

import numpy as np
import pytest

from liveband.errors import LiveBandError
from liveband.stats.paired import bootstrap_p_value, paired_mean_test, rank_biserial, signed_rank_p


def exact_signed_rank_p(d):
    """Two-sided exact p by enumerating all 2^n sign patterns of the ranks (distinct |d|, no zeros)."""
    ranks = np.argsort(np.argsort(np.abs(d))) + 1
    observed = ranks[np.asarray(d) > 0].sum()
    totals = np.array([sum(r for r, s in zip(ranks, signs) if s) for signs in itertools.product([0, 1], repeat=len(d))])
    low, high = np.mean(totals <= observed), np.mean(totals >= observed)
    return min(1.0, 2 * min(low, high))


@pytest.mark.parametrize("d", [
    [1.2, -0.4, 2.5, 3.1, -1.9, 4.4, 0.7, 5.3],
    [-0.3, -1.1, 0.2, -2.4, -0.9, 1.7, -3.3],
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
])
def test_signed_rank_p_is_the_exact_enumerated_p(d):
    assert signed_rank_p(d) == pytest.approx(exact_signed_rank_p(d), rel=1e-12)


def test_zero_differences_are_discarded():
    d = [1.2, -0.4, 2.5, 3.1, -1.9, 4.4, 0.7, 5.3]
    assert signed_rank_p(d + [0.0, 0.0, np.nan]) == pytest.approx(signed_rank_p(d))
    assert signed_rank_p([0.0, 0.0, 0.0]) == 1.0


def test_rank_biserial_hand_cases():
    assert rank_biserial([1, 2, -3, 4]) == pytest.approx(0.4)  # T+ = 1+2+4, T- = 3 -> 4/10
    assert rank_biserial([0, 1, -1, 2]) == pytest.approx(0.5)  # ranks 1.5, 1.5, 3: T+ = 4.5, T- = 1.5
    assert rank_biserial([3, 1, 2]) == 1.0 and rank_biserial([-3, -1]) == -1.0
    assert rank_biserial([0, 0]) == 0.0


def test_paired_mean_test_finds_a_shift_and_not_noise():
    rng = np.random.default_rng(0)
    shifted = paired_mean_test(rng.normal(0.5, 1.0, 120), n_boot=500)
    assert shifted.p < 1e-3 and shifted.low > 0 and shifted.effect > 0.3 and shifted.n == 120
    null = paired_mean_test(rng.normal(0.0, 1.0, 120), n_boot=500)
    assert null.p > 0.01 and null.low < 0 < null.high


def test_bootstrap_p_values():
    assert bootstrap_p_value(0.0, np.zeros(50)) == 1.0
    reps = np.random.default_rng(1).normal(0.0, 1.0, 20000)
    reps = (reps - reps.mean()) / reps.std(ddof=1) + 1.96
    assert bootstrap_p_value(1.96, reps, "normal") == pytest.approx(0.05, abs=1e-3)
    # centred: |r - 2| >= 2 for r in {0, 4} -> (1 + 2) / (5 + 1)
    assert bootstrap_p_value(2.0, [0.0, 1.0, 2.0, 3.0, 4.0], "centred") == pytest.approx(0.5)
    with pytest.raises(LiveBandError, match="p-value method"):
        bootstrap_p_value(1.0, reps, "exact")
