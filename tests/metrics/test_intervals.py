import numpy as np
import pytest

from liveband.errors import LiveBandError
from liveband.metrics.intervals import clustered_mean, rate_summary, wilson_interval


def test_wilson_interval_hand_case():
    # 8 of 10: centre (p + z^2/2n) / (1 + z^2/n) = 0.7167, half-width 0.2266 (z = 1.96).
    lo, hi = wilson_interval(8, 10)
    assert (lo, hi) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == pytest.approx(1.0)
    summary = rate_summary(np.array([True] * 8 + [False] * 2))
    assert summary["rate"] == 0.8 and summary["k"] == 8 and summary["n"] == 10
    assert summary["ci95"] == pytest.approx([0.4902, 0.9433], abs=1e-4)
    with pytest.raises(LiveBandError, match="wilson_interval"):
        wilson_interval(3, 0)


def test_clustered_mean_uses_the_cluster_means_and_a_t_interval():
    # Cluster means 1, 2, 3: mean 2, SD 1, t(0.975, 2) = 4.3027 -> 2 +- 2.4841.
    values = np.array([0.5, 1.5, 2.0, 2.0, 3.0, 2.0, 4.0])
    clusters = np.array([0, 0, 1, 1, 2, 2, 2])
    out = clustered_mean(values, clusters)
    assert out["mean"] == pytest.approx(2.0) and out["n_clusters"] == 3
    assert out["ci95"] == pytest.approx([2 - 2.4841, 2 + 2.4841], abs=1e-4)
    assert np.isnan(clustered_mean(np.array([1.0, 2.0]), np.array([0, 0]))["ci95"][0])
    with pytest.raises(LiveBandError, match="clustered_mean"):
        clustered_mean(np.array([1.0]), np.array([0, 1]))
