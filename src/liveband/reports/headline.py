"""The headline numbers of one system, flat, for ``dvc metrics show`` / ``diff``.

Two small files per system, ``results/headline/first/<system>.json`` (first-segment values) and
``results/headline/drift/<system>.json`` (second - first segment), with the same short keys in
each: DVC's table has a row per file and a column per Table 1 metric, nothing else.
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


def headline_metrics(summary: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """``{"first": {metric: value}, "drift": {metric: drift}}`` from a system summary
    (liveband.reports.uncertainty.system_summary); unavailable values are null."""
    return {part: {metric_key(row.column): _number(getattr(row, column)) for row in summary.itertuples()}
            for part, column in (("first", "value"), ("drift", "drift"))}
