"""The headline numbers of one system, flat, for ``dvc metrics show`` / ``diff``.

One small file per system (``results/headline/<system>.json``), the same short keys in each, so
DVC's table has a row per system and a column per metric: the first-segment value (``<metric>``)
and the drift (``<metric>_drift``) of Table 1's cells, nothing else.
"""

from __future__ import annotations

import math
import re

import pandas as pd


def metric_key(column: str) -> str:
    """A short key for a table column: 'COCOLA-local full' -> 'cocola_local_full'."""
    return re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_")


def _number(value) -> float | None:
    value = float(value)
    return round(value, 4) if math.isfinite(value) else None


def headline_metrics(summary: pd.DataFrame) -> dict[str, float | None]:
    """``{metric: first-segment value, metric_drift: drift}`` from a system summary
    (liveband.reports.uncertainty.system_summary); unavailable values are null."""
    flat: dict[str, float | None] = {}
    for row in summary.itertuples():
        key = metric_key(row.column)
        flat[key] = _number(row.value)
        flat[f"{key}_drift"] = _number(row.drift)
    return flat
