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
        return _no_curve(path, title)
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


def _no_curve(path: str | Path, title: str) -> bool:
    fig, ax = plt.subplots(figsize=(7, 2))
    ax.text(0.5, 0.5, f"{title}: no training curve (model not trained in this run)", ha="center", va="center")
    ax.set_axis_off()
    save_figure(fig, path)
    return False


def plot_gan_training(curve_csv: str | Path, path: str | Path, title: str, target: float | None,
                      tracking: dict[str, float] | None = None, smooth: int = 50) -> bool:
    """A GAN variant's training: losses; the D advantage (raw and ``smooth``-step running mean)
    against AdaGP's target (``target`` None: a fixed weight, no target line); the penalty weight
    on a log axis. ``tracking`` (liveband.reports.curves.advantage_tracking of this curve) goes
    in the title: mean |advantage - target| over the second half of training."""
    df = pd.read_csv(curve_csv)
    if df.empty or "advantage" not in df:
        return _no_curve(path, title)
    fig, axes = plt.subplots(3, 1, figsize=(7, 7), sharex=True)
    for col in ("d_loss", "g_loss"):
        if col in df:
            line, = axes[0].plot(df["step"], df[col], alpha=0.25, lw=0.8)
            axes[0].plot(df["step"], df[col].rolling(smooth, min_periods=1).mean(), lw=1.5,
                         color=line.get_color(), label=col)
    axes[0].set_ylabel("loss")
    axes[0].legend(loc="best", fontsize=8)
    axes[1].plot(df["step"], df["advantage"], alpha=0.3, lw=0.8, label="advantage")
    axes[1].plot(df["step"], df["advantage"].rolling(smooth, min_periods=1).mean(), lw=1.5,
                 label=f"{smooth}-step mean")
    if target is not None:
        axes[1].axhline(target, color="k", ls="--", lw=1, label=f"target {target:g}")
    if tracking:
        title += (f"\nmean |advantage - target| over the second half: {tracking['advantage_error_second_half']:.3f} "
                  f"({smooth}-step mean: {tracking['advantage_error_second_half_smoothed']:.3f})")
    axes[1].set_ylabel("D advantage")
    axes[1].legend(loc="best", fontsize=8)
    if "gp_weight" in df:
        axes[2].plot(df["step"], df["gp_weight"], lw=1.2)
    axes[2].set_yscale("log")
    axes[2].set_ylabel("penalty weight")
    axes[2].set_xlabel("step")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].set_title(title, fontsize=9)
    save_figure(fig, path)
    return True
