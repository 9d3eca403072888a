import numpy as np
import pytest

from liveband.errors import LiveBandError
from liveband.stats.intervals import mean_interval, percentile_interval


@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_mean_interval_covers_the_true_mean_at_about_the_nominal_rate(method):
    rng = np.random.default_rng(7)
    repetitions, hits = 200, 0
    for i in range(repetitions):
        sample = rng.exponential(scale=2.0, size=40)  # skewed; true mean 2
        ci = mean_interval(sample, n_boot=400, seed=i, method=method)
        hits += ci.low <= 2.0 <= ci.high
    assert 0.88 <= hits / repetitions <= 0.99  # nominal 0.95; binomial SD ~0.015


def test_mean_interval_ignores_nan_and_brackets_the_mean():
    ci = mean_interval([1.0, 2.0, np.nan, 3.0, 4.0, 5.0], n_boot=500)
    assert ci.n == 5 and ci.estimate == pytest.approx(3.0)
    assert ci.low < 3.0 < ci.high


def test_degenerate_samples():
    constant = mean_interval([0.5] * 10)
    assert (constant.low, constant.estimate, constant.high) == (0.5, 0.5, 0.5)
    single = mean_interval([0.5, np.nan])
    assert single.estimate == 0.5 and np.isnan(single.low) and single.n == 1
    assert np.isnan(mean_interval([np.nan]).estimate)


def test_percentile_interval_of_replicates():
    ci = percentile_interval(10.0, np.arange(1001.0), level=0.9)
    assert (ci.low, ci.high) == pytest.approx((50.0, 950.0))


def test_bad_settings_raise():
    with pytest.raises(LiveBandError, match="bootstrap method"):
        mean_interval([1.0, 2.0], method="studentized")
    with pytest.raises(LiveBandError, match="confidence level"):
        percentile_interval(0.0, [1.0, 2.0], level=95)
