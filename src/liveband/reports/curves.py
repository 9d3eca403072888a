"""Summaries of a training curve that reviewers read (figures, stage summaries, docs)."""

from __future__ import annotations

import math

import pandas as pd


def advantage_tracking(curve: pd.DataFrame, target: float, smooth: int = 50) -> dict[str, float]:
    """How closely AdaGP held the D advantage on ``target`` over the second half of training:
    mean |advantage - target| of the raw per-step values and of their ``smooth``-step running
    mean (NaN when the curve has no advantage column or no rows)."""
    if "advantage" not in curve or curve.empty:
        return {"advantage_error_second_half": math.nan, "advantage_error_second_half_smoothed": math.nan}
    advantage = curve["advantage"].astype(float).reset_index(drop=True)
    smoothed = advantage.rolling(smooth, min_periods=1).mean()
    half = len(advantage) // 2
    return {"advantage_error_second_half": float((advantage[half:] - target).abs().mean()),
            "advantage_error_second_half_smoothed": float((smoothed[half:] - target).abs().mean())}
