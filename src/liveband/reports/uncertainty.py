"""Table cells with uncertainty: a system's value and drift with 95% CIs, and the seed spread.

``system_summary`` gives, for each column, the first-segment value and the drift
(segment 1 - segment 0, tested against 0) with their intervals, numerically and as cells like
``0.615 [0.55, 0.68]``. ``seed_spread`` summarises seed replicas of one system (``X``,
``X_seed1``, ...; ``X`` is seed 0): the range (min-max) of the per-seed point values, printed
as ``0.601-0.615 (2 seeds)``, and their standard deviation (ddof = 1) as a number. The range is
the printed summary because an SD from two or three seeds is itself very uncertain.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from liveband.reports.evidence import Evidence, MissingEvidence
from liveband.stats.paired import Comparison

SEED_SUFFIX = re.compile(r"^(?P<base>.+)_seed(?P<seed>\d+)$")


def _num(value: float, signed: bool, digits: int) -> str:
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def format_interval(c: Comparison | None, signed: bool = False, digits: int = 3, ci_digits: int = 2) -> str:
    """``0.615 [0.55, 0.68]`` (``+`` signs for differences); ``-`` when there is no estimate."""
    if c is None or not math.isfinite(c.estimate):
        return "-"
    text = _num(c.estimate, signed, digits)
    if math.isfinite(c.low) and math.isfinite(c.high):
        text += f" [{_num(c.low, signed, ci_digits)}, {_num(c.high, signed, ci_digits)}]"
    return text


def _try(evidence: Evidence, column: str, terms) -> Comparison | None:
    try:
        return evidence.estimate(column, terms)
    except MissingEvidence:
        return None


def system_summary(evidence: Evidence, system: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Per column: value and CI (first segment), drift and CI and its p against 0, and the cells."""
    rows = []
    for column in columns or evidence.columns():
        first = _try(evidence, column, [(1.0, system, 0)])
        drift = _try(evidence, column, [(1.0, system, 1), (-1.0, system, 0)])
        nan = Comparison(np.nan, np.nan, np.nan, np.nan, "", np.nan, 0)
        f, d = first or nan, drift or nan
        rows.append({"column": column, "value": f.estimate, "ci_low": f.low, "ci_high": f.high,
                     "drift": d.estimate, "drift_ci_low": d.low, "drift_ci_high": d.high, "drift_p": d.p,
                     "drift_test": d.test, "first_cell": format_interval(first),
                     "drift_cell": format_interval(drift, signed=True)})
    return pd.DataFrame(rows)


def seed_groups(systems: Iterable[str]) -> dict[str, list[str]]:
    """``{base: [base, base_seed1, ...]}`` for every base that has at least one seed replica."""
    names = list(systems)
    groups: dict[str, list[str]] = {}
    for name in names:
        match = SEED_SUFFIX.match(name)
        if match:
            groups.setdefault(match["base"], []).append(name)
    seed = lambda s: int(SEED_SUFFIX.match(s)["seed"]) if SEED_SUFFIX.match(s) else 0  # noqa: E731
    return {base: sorted(([base] if base in names else []) + reps, key=seed) for base, reps in groups.items()}


def _point(evidence: Evidence, column: str, system: str, drift: bool) -> float:
    try:
        first = evidence.point(column, system, 0)
        return evidence.point(column, system, 1) - first if drift else first
    except MissingEvidence:
        return np.nan


def _spread_cell(values: np.ndarray, signed: bool) -> str:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return "-"
    lo, hi = _num(values.min(), signed, 3), _num(values.max(), signed, 3)
    return f"{lo}-{hi} ({len(values)} seed{'s' if len(values) > 1 else ''})"


def seed_spread(evidence: Evidence, members: Sequence[str], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Per column: min, max and SD over the seed replicas ``members`` (first segment and drift)."""
    rows = []
    for column in columns or evidence.columns():
        row: dict = {"column": column}
        for what, drift in (("first", False), ("drift", True)):
            values = np.array([_point(evidence, column, s, drift) for s in members])
            ok = values[np.isfinite(values)]
            row.update({f"{what}_n_seeds": len(ok), f"{what}_min": ok.min() if len(ok) else np.nan,
                        f"{what}_max": ok.max() if len(ok) else np.nan,
                        f"{what}_sd": ok.std(ddof=1) if len(ok) > 1 else np.nan,
                        f"{what}_cell": _spread_cell(values, signed=drift)})
        rows.append(row)
    return pd.DataFrame(rows)
