"""Listening-test statistics against published reference values and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from liveband.listening.power import detects, power_curve, simulate_sessions
from liveband.listening.stats import analyse, friedman, kendall_w, pairwise
from liveband.stats.multiple import holm, holm_reject_rows

# R's `friedman.test` help page (stats package), "RoundingTimes" of Hollander & Wolfe (1973),
# p. 140: times of 22 players rounding first base by 3 methods. R prints
# "Friedman chi-squared = 11.143, df = 2, p-value = 0.003805".
ROUNDING_TIMES = np.array([
    [5.40, 5.50, 5.55], [5.85, 5.70, 5.75], [5.20, 5.60, 5.50], [5.55, 5.50, 5.40], [5.90, 5.85, 5.70],
    [5.45, 5.55, 5.60], [5.40, 5.40, 5.35], [5.45, 5.50, 5.35], [5.25, 5.15, 5.00], [5.85, 5.80, 5.70],
    [5.25, 5.20, 5.10], [5.65, 5.55, 5.45], [5.60, 5.35, 5.45], [5.05, 5.00, 4.95], [5.50, 5.50, 5.40],
    [5.45, 5.55, 5.50], [5.55, 5.55, 5.35], [5.45, 5.50, 5.55], [5.50, 5.45, 5.25], [5.65, 5.60, 5.40],
    [5.70, 5.65, 5.55], [6.30, 6.30, 6.25]])

# R's `wilcox.test` help page, depression scale of Hollander & Wolfe (1973), p. 29f.:
# `wilcox.test(x, y, paired = TRUE, alternative = "greater")` prints "V = 40, p-value = 0.01953";
# the exact two-sided p is twice that, 0.03906 (what the analysis uses).
DEPRESSION_X = np.array([1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30])
DEPRESSION_Y = np.array([0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29])


def test_friedman_matches_r_rounding_times():
    f = friedman(ROUNDING_TIMES)
    assert f["chi2"] == pytest.approx(11.143, abs=5e-4)
    assert f["df"] == 2 and f["p"] == pytest.approx(0.003805, abs=5e-7)
    assert f["kendall_w"] == pytest.approx(11.143 / (22 * 2), abs=1e-4)


def test_wilcoxon_matches_r_depression_example():
    d = DEPRESSION_X - DEPRESSION_Y
    greater = scipy.stats.wilcoxon(DEPRESSION_X, DEPRESSION_Y, alternative="greater")
    assert greater.statistic == 40 and greater.pvalue == pytest.approx(0.01953, abs=5e-6)
    rows = pairwise(np.column_stack([DEPRESSION_X, DEPRESSION_Y]), names=("x", "y"), n_boot=200)
    assert len(rows) == 1 and rows[0]["p"] == pytest.approx(0.03906, abs=5e-6)
    # rank-biserial (T+ - T-) / (T+ + T-) with T+ = 40 of 45: (40 - 5) / 45
    assert rows[0]["rank_biserial"] == pytest.approx(35 / 45)
    assert rows[0]["mean_diff"] == pytest.approx(d.mean()) and rows[0]["low"] < d.mean() < rows[0]["high"]


def test_holm_hand_case_and_vectorised_rows():
    # p = (0.01, 0.04, 0.03, 0.005), m = 4: sorted 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.06, size=(300, 6))
    expected = np.array([holm(row) < 0.05 for row in p])
    assert (holm_reject_rows(p, 0.05) == expected).all()


def test_kendall_w_hand_case():
    # 3 raters rank 4 conditions identically: perfect concordance, W = 1; chi2 = n (k - 1) = 9
    x = np.tile([4.0, 3.0, 2.0, 1.0], (3, 1))
    f = friedman(x)
    assert f["chi2"] == pytest.approx(9.0) and f["kendall_w"] == pytest.approx(1.0)
    assert kendall_w(4.5, 3, 4) == pytest.approx(0.5)


def test_analysis_with_no_sessions_invents_nothing():
    out = analyse({"quality": np.zeros((0, 4))}, n_boot=50)
    assert np.isnan(out["quality"]["friedman"]["chi2"]) and out["quality"]["pairwise"] == []
    assert all(np.isnan(m["mean"]) for m in out["quality"]["means"].values())


def test_analysis_has_six_holm_corrected_pairs():
    rng = np.random.default_rng(1)
    x = np.array([5.0, 4.0, 3.0, 1.0]) + 0.3 * rng.standard_normal((12, 4))
    rows = analyse({"quality": x}, n_boot=100)["quality"]["pairwise"]
    assert len(rows) == 6
    assert (np.array([r["p_holm"] for r in rows]) == holm([r["p"] for r in rows])).all()


def test_power_simulation_rises_with_sessions_and_is_seeded():
    mu = np.array([3.9, 2.6, 1.9, 1.4])
    x = simulate_sessions(mu, 8, 0.8, 0.5, 0.7, 10, np.random.default_rng(0), n_sim=3)
    assert x.shape == (3, 8, 4) and x.min() >= 1 and x.max() <= 5
    assert not detects(np.tile(mu, (5, 6, 1)) * 0 + 3.0 + 0.01 * np.arange(6)[None, :, None], 1, 2, 0.05).any()
    a = power_curve(mu, [4, 30], 60, 0.8, 0.5, 0.7, 10, 0.05, seed=0, target=1.01)
    assert a == power_curve(mu, [4, 30], 60, 0.8, 0.5, 0.7, 10, 0.05, seed=0, target=1.01)
    assert a["power"][4] < a["power"][30]
