"""Holm's step-down correction of a family of p-values (controls the family-wise error rate)."""

from __future__ import annotations

import numpy as np
from statsmodels.stats.multitest import multipletests


def holm(pvalues) -> np.ndarray:
    """Holm-adjusted p-values, same order as ``pvalues``.

    NaN entries (no test was possible) are left NaN and are not counted in the family.
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out
