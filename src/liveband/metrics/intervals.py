"""95 % intervals for the figures a metric check reports: a rate (Wilson) and a mean over
clustered observations (Student t over the cluster means)."""

from __future__ import annotations

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from liveband.errors import LiveBandError


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial rate ``successes / n``."""
    if n < 1 or not 0 <= successes <= n:
        raise LiveBandError(f"wilson_interval: need 0 <= successes <= n and n >= 1, got {successes} of {n}")
    lo, hi = proportion_confint(successes, n, alpha=1 - level, method="wilson")
    return float(lo), float(hi)


def rate_summary(flags: np.ndarray, level: float = 0.95) -> dict:
    """``{"rate", "k", "n", "ci95"}`` of boolean outcomes (Wilson interval)."""
    flags = np.asarray(flags, dtype=bool).ravel()
    k, n = int(flags.sum()), len(flags)
    return {"rate": k / n if n else float("nan"), "k": k, "n": n, "ci95": list(wilson_interval(k, n, level))}


def clustered_mean(values: np.ndarray, clusters: np.ndarray, level: float = 0.95) -> dict:
    """``{"mean", "ci95", "n_clusters"}``: the mean of the cluster means, with a Student t interval
    over those means (observations within a cluster, e.g. chunks of one song, are not independent).
    """
    values, clusters = np.asarray(values, dtype=np.float64).ravel(), np.asarray(clusters).ravel()
    if len(values) != len(clusters) or len(values) == 0:
        raise LiveBandError(f"clustered_mean: need as many cluster labels as values (>= 1), got {len(clusters)} and {len(values)}")
    means = np.array([values[clusters == c].mean() for c in np.unique(clusters)])
    mean = float(means.mean())
    if len(means) < 2:
        return {"mean": mean, "ci95": [float("nan"), float("nan")], "n_clusters": len(means)}
    half = float(stats.t.ppf(0.5 + level / 2, len(means) - 1) * means.std(ddof=1) / np.sqrt(len(means)))
    return {"mean": mean, "ci95": [mean - half, mean + half], "n_clusters": len(means)}
