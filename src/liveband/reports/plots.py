"""Figures for results/: training curves and other line plots, written atomically as PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from liveband.utils.atomic import atomic_path  # noqa: E402


def save_figure(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)


def plot_curves(curve_csv: str | Path, columns: list[str], path: str | Path, title: str,
                log_y: bool = False, smooth: int = 25, hlines: dict[str, float] | None = None) -> bool:
    """One panel per column of a training curve CSV (raw and moving average).

    With no rows (e.g. an adopted external checkpoint) the figure says so; returns False.
    """
    df = pd.read_csv(curve_csv)
    columns = [c for c in columns if c in df.columns]
    if df.empty or not columns:
        fig, ax = plt.subplots(figsize=(7, 2))
        ax.text(0.5, 0.5, f"{title}: no training curve (model not trained in this run)",
                ha="center", va="center")
        ax.set_axis_off()
        save_figure(fig, path)
        return False
    fig, axes = plt.subplots(len(columns), 1, figsize=(7, 2.2 * len(columns)), sharex=True, squeeze=False)
    for ax, col in zip(axes[:, 0], columns):
        ax.plot(df["step"], df[col], alpha=0.3, lw=0.8)
        ax.plot(df["step"], df[col].rolling(smooth, min_periods=1).mean(), lw=1.5)
        ax.set_ylabel(col)
        if hlines and col in hlines:
            ax.axhline(hlines[col], color="k", ls="--", lw=1, label=f"target {hlines[col]:g}")
            ax.legend(loc="best", fontsize=8)
        if log_y:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("step")
    axes[0, 0].set_title(title)
    save_figure(fig, path)
    return True
