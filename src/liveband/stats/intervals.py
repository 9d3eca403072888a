"""Bootstrap confidence intervals: the mean of per-example values, and percentile intervals.

The mean's interval resamples examples with replacement (``scipy.stats.bootstrap``), BCa by
default (bias-corrected and accelerated, Efron 1987), percentile on request. A set-level
metric's interval is the percentile interval of its replicates (``liveband.stats.set_level``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats

from liveband.errors import LiveBandError

MEAN_METHODS = {"bca": "BCa", "percentile": "percentile"}


@dataclass(frozen=True)
class Interval:
    estimate: float  # the statistic on the full sample
    low: float  # lower end of the (two-sided) confidence interval
    high: float  # upper end
    n: int  # examples the statistic rests on


def finite(values) -> np.ndarray:
    """The finite entries of ``values`` as float64 (NaN = not computable for that example)."""
    x = np.asarray(values, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def mean_interval(values, n_boot: int = 2000, seed: int = 0, level: float = 0.95,
                  method: str = "bca") -> Interval:
    """Mean of the finite ``values`` and its bootstrap CI over examples.

    Fewer than two values: NaN bounds. All values equal: a zero-width interval (every
    resample has the same mean). If BCa is undefined for the sample (scipy returns NaN), the
    percentile interval of the same resamples is used instead.
    """
    if method not in MEAN_METHODS:
        raise LiveBandError(f"bootstrap method: {method!r} is not one of {sorted(MEAN_METHODS)}")
    _check_level(level)
    x = finite(values)
    if len(x) == 0:
        return Interval(np.nan, np.nan, np.nan, 0)
    mean = float(x.mean())
    if len(x) < 2:
        return Interval(mean, np.nan, np.nan, 1)
    if np.ptp(x) == 0:
        return Interval(mean, mean, mean, len(x))
    res = scipy.stats.bootstrap((x,), np.mean, n_resamples=int(n_boot), confidence_level=level,
                                method=MEAN_METHODS[method], vectorized=True,
                                rng=np.random.default_rng(seed))
    low, high = res.confidence_interval
    if not (np.isfinite(low) and np.isfinite(high)):
        return percentile_interval(mean, res.bootstrap_distribution, level, len(x))
    return Interval(mean, float(low), float(high), len(x))


def percentile_interval(estimate: float, replicates, level: float = 0.95, n: int = 0) -> Interval:
    """The percentile interval of bootstrap ``replicates`` around ``estimate``."""
    _check_level(level)
    reps = finite(replicates)
    if len(reps) == 0:
        return Interval(float(estimate), np.nan, np.nan, n)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(reps, [tail, 1.0 - tail])
    return Interval(float(estimate), float(low), float(high), n)


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise LiveBandError(f"confidence level: {level} is not in (0, 1)")
