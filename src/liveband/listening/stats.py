"""Statistics of the listening test (paper Table 4): per dimension, Friedman over the four
conditions with Kendall's W, the 6 pairwise Wilcoxon signed-rank tests Holm-corrected within
the dimension with matched-pairs rank-biserial effect sizes, and bootstrap CIs of condition
means and of mean differences. Input: per dimension an (n participants, k conditions) matrix
of participant means (``liveband.listening.screening.participant_matrix``).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import scipy.stats

from liveband.listening.schema import CONDITIONS
from liveband.stats.intervals import mean_interval
from liveband.stats.multiple import holm
from liveband.stats.paired import paired_mean_test


def kendall_w(chi2: float, n: int, k: int) -> float:
    """Kendall's coefficient of concordance from Friedman's statistic: chi2 / (n (k - 1))."""
    return float(chi2 / (n * (k - 1)))


def friedman(matrix) -> dict:
    """Friedman's test over the columns (conditions) of ``matrix`` (rows = participants).

    scipy's statistic carries the tie correction; df = k - 1. Fewer than 2 complete rows: no test
    (NaN), never an invented value."""
    x = np.asarray(matrix, dtype=np.float64)
    x = x[np.isfinite(x).all(axis=1)]
    n, k = x.shape
    if n < 2 or np.ptp(x, axis=1).max(initial=0.0) == 0.0:
        return {"chi2": np.nan, "df": k - 1, "p": np.nan, "kendall_w": np.nan, "n": n}
    res = scipy.stats.friedmanchisquare(*x.T)
    return {"chi2": float(res.statistic), "df": k - 1, "p": float(res.pvalue),
            "kendall_w": kendall_w(res.statistic, n, k), "n": n}


def pairwise(matrix, names=CONDITIONS, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> list[dict]:
    """All pairwise comparisons of the columns: mean difference (a - b) with its bootstrap CI,
    two-sided Wilcoxon signed-rank p, Holm-adjusted p within this family, rank-biserial r."""
    x = np.asarray(matrix, dtype=np.float64)
    rows = []
    for i, j in combinations(range(x.shape[1]), 2):
        c = paired_mean_test(x[:, i] - x[:, j], n_boot=n_boot, seed=seed, level=level)
        p = c.p if c.n >= 1 else np.nan
        rows.append({"a": names[i], "b": names[j], "mean_diff": c.estimate, "low": c.low, "high": c.high,
                     "p": p, "rank_biserial": c.effect, "n": c.n})
    for row, adj in zip(rows, holm([r["p"] for r in rows])):
        row["p_holm"] = float(adj)
    return rows


def condition_summary(matrix, names=CONDITIONS, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Mean rating per condition over participants with its bootstrap CI."""
    x = np.asarray(matrix, dtype=np.float64)
    out = {}
    for i, name in enumerate(names):
        ci = mean_interval(x[:, i], n_boot=n_boot, seed=seed, level=level)
        out[name] = {"mean": ci.estimate, "low": ci.low, "high": ci.high, "n": ci.n}
    return out


def analyse(matrices: dict[str, np.ndarray], n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Everything Table 4 reports, per dimension."""
    return {dim: {"means": condition_summary(x, n_boot=n_boot, seed=seed, level=level),
                  "friedman": friedman(x),
                  "pairwise": pairwise(x, n_boot=n_boot, seed=seed, level=level) if len(x) else []}
            for dim, x in matrices.items()}
