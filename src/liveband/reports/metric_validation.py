"""The metric validation's Markdown table and figure, from its JSON result."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from liveband.evaluation.metric_checks import CLEAN, FAIL, PASS
from liveband.metrics.kad import KAD_SCALE
from liveband.reports.plots import save_figure

STATUS_COLOURS = {PASS: "tab:green", FAIL: "tab:red"}  # anything else (n too small): grey


def _evidence(row: dict) -> str:
    if row["test"] == "wilcoxon":
        return f"p = {row['p_holm']:.2g} (median {row['median_difference']:+.3g})"
    return f"[{row['ci_low']:+.3g}, {row['ci_high']:+.3g}]"


def validation_markdown(result: dict) -> str:
    """Caption (the rule, the sample, notes) and one row per metric x check."""
    rows = [{"Metric": r["metric"], "Check": r["check"], "Expected": r["expect"],
             "Difference (degraded - clean)": f"{r['difference']:+.4g}",
             "Holm p (Wilcoxon) / 95% CI (bootstrap)": _evidence(r), "n": r["n"], "Result": r["status"]}
            for r in result["checks"]]
    notes = " ".join(f"Note: {n}." for n in result["notes"])
    caption = (f"Metric validation: profile '{result['profile']}', {result['n_examples']} real test stems, one "
               f"segment of {result['segment_seconds']:g} s each, degraded in controlled ways. {result['rule']} "
               f"KAD = {KAD_SCALE:g} x unbiased MMD^2 (Gaussian kernel, bandwidth = median distance between "
               f"reference frames). {notes}").strip()
    return f"{caption}\n\n{pd.DataFrame(rows).to_markdown(index=False)}\n"


def validation_figure(result: dict, path: str | Path) -> None:
    """One panel per metric: its value on clean stems and under each check, coloured by the
    check's result (per-example metrics: mean with a 95% interval)."""
    status = {(r["metric"], r["check"]): r["status"] for r in result["checks"]}
    metrics = list(result["values"])
    cols = min(4, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.0 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        conditions = list(result["values"][metric])
        for x, condition in enumerate(conditions):
            v = result["values"][metric][condition]
            colour = "k" if condition == CLEAN else STATUS_COLOURS.get(status.get((metric, condition)), "0.6")
            ax.errorbar(x, v["value"], yerr=v["half_width"], fmt="o", color=colour, capsize=3)
        ax.set_xticks(range(len(conditions)), conditions, rotation=60, ha="right", fontsize=7)
        ax.set_title(metric, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_axis_off()
    fig.suptitle(f"Metric validation ({result['profile']}, n = {result['n_examples']}): black = clean, "
                 "green = check passed, red = failed, grey = n too small", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
