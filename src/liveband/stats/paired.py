"""Paired comparisons: per-example differences (Wilcoxon) and set-level differences (bootstrap).

Per-example metrics: the differences ``d = A - B`` over the same examples (or ``seg1 - seg0``
of one system, a one-sample test against 0) get

- a two-sided Wilcoxon signed-rank test (``scipy.stats.wilcoxon``). Zero differences are
  discarded first (Wilcoxon's original convention, ``zero_method="wilcox"``); scipy's
  ``method="auto"`` then gives the exact null distribution for up to 50 distinct differences
  and the tie-corrected normal approximation otherwise. If every difference is zero, p = 1.
- the matched-pairs rank-biserial correlation ``r = (T+ - T-) / (T+ + T-)`` (Kerby 2014) on
  the same nonzero differences (average ranks for ties): +1 when every pair favours A, -1
  when every pair favours B; 0 when no difference is nonzero.
- a bootstrap CI of the mean difference (``liveband.stats.intervals.mean_interval``).

Set-level metrics: the point difference and its bootstrap replicates (the same resampled
example ids for both sides, ``liveband.stats.set_level``) give a percentile CI and a
two-sided p-value, see :func:`bootstrap_p_value`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats

from liveband.errors import LiveBandError
from liveband.stats.intervals import finite, mean_interval, percentile_interval

WILCOXON = "Wilcoxon signed-rank"
BOOTSTRAP = "paired bootstrap"
P_METHODS = ("normal", "centred")


@dataclass(frozen=True)
class Comparison:
    estimate: float  # mean per-example difference, or the set-level metric difference
    low: float  # confidence interval of the estimate
    high: float
    p: float  # two-sided p-value against "no difference"
    test: str  # WILCOXON or BOOTSTRAP
    effect: float  # matched-pairs rank-biserial r (NaN for set-level differences)
    n: int  # examples (pairs) the comparison rests on


def rank_biserial(differences) -> float:
    """Matched-pairs rank-biserial correlation of the nonzero finite ``differences``."""
    d = finite(differences)
    d = d[d != 0]
    if len(d) == 0:
        return 0.0
    ranks = scipy.stats.rankdata(np.abs(d))
    plus, minus = ranks[d > 0].sum(), ranks[d < 0].sum()
    return float((plus - minus) / (plus + minus))


def signed_rank_p(differences) -> float:
    """Two-sided Wilcoxon signed-rank p-value of ``differences`` against 0 (zeros discarded)."""
    d = finite(differences)
    d = d[d != 0]
    if len(d) == 0:
        return 1.0
    return float(scipy.stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided", method="auto").pvalue)


def paired_mean_test(differences, n_boot: int = 2000, seed: int = 0, level: float = 0.95,
                     method: str = "bca") -> Comparison:
    """Mean of per-example ``differences`` with its bootstrap CI, Wilcoxon p and rank-biserial r."""
    d = finite(differences)
    ci = mean_interval(d, n_boot=n_boot, seed=seed, level=level, method=method)
    return Comparison(ci.estimate, ci.low, ci.high, signed_rank_p(d), WILCOXON, rank_biserial(d), len(d))


def bootstrap_p_value(estimate: float, replicates, method: str = "normal") -> float:
    """Two-sided p-value of "the difference is 0" from bootstrap ``replicates`` of it.

    - ``normal``: ``2 * Phi(-|estimate| / SE)`` with SE the replicates' standard deviation (the
      bootstrap-standard-error z test, Efron & Tibshirani 1993, ch. 16). Not limited by the
      number of replicates, so it can pass a Holm threshold ``alpha / m`` with a few hundred.
    - ``centred``: ``(1 + #{|r - estimate| >= |estimate|}) / (B + 1)``, the replicates shifted
      to the null (Hall & Wilson 1991), with the +1 of Davison & Hinkley (1997). It cannot go
      below ``1 / (B + 1)``: use it only with ``B >= m / alpha`` for a family of m tests.

    Identical sides (every replicate and the estimate 0) give p = 1; replicates without
    spread around a nonzero estimate give NaN (no test).
    """
    if method not in P_METHODS:
        raise LiveBandError(f"bootstrap p-value method: {method!r} is not one of {list(P_METHODS)}")
    reps = finite(replicates)
    if not np.isfinite(estimate) or len(reps) < 2:
        return np.nan
    if method == "centred":
        extreme = np.abs(reps - estimate) >= abs(estimate)
        return float((1 + extreme.sum()) / (len(reps) + 1))
    se = float(reps.std(ddof=1))
    if se == 0.0:
        return 1.0 if estimate == 0.0 else np.nan
    return float(2.0 * scipy.stats.norm.sf(abs(estimate) / se))


def bootstrap_comparison(estimate: float, replicates, n: int, level: float = 0.95,
                         p_method: str = "normal") -> Comparison:
    """Percentile CI and bootstrap p-value of a set-level difference from its replicates."""
    ci = percentile_interval(estimate, replicates, level, n)
    p = bootstrap_p_value(estimate, replicates, p_method)
    return Comparison(ci.estimate, ci.low, ci.high, p, BOOTSTRAP, np.nan, n)
