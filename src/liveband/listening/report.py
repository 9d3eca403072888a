"""Table 4 beside the paper's values, its figure, and results/listening.json."""

from __future__ import annotations

import numpy as np
import pandas as pd

from liveband.listening.power import PAPER_ROWS
from liveband.listening.schema import CONDITIONS, DIMENSIONS
from liveband.reports.paper_values import TABLE4
from liveband.reports.plots import plt, save_figure
from liveband.reports.tables import write_table


def _cell(m: dict) -> str:
    if not np.isfinite(m["mean"]):
        return "-"
    ci = f" [{m['low']:.2f}, {m['high']:.2f}]" if np.isfinite(m["low"]) else ""
    return f"{m['mean']:.2f}{ci}"


def table4(analysis: dict, n_sessions: int) -> pd.DataFrame:
    rows = []
    for c in CONDITIONS:
        row = {"Model": PAPER_ROWS[c]}
        for d, dim in enumerate(DIMENSIONS):
            row[f"{dim} (ours)"] = _cell(analysis[dim]["means"][c]) if n_sessions else "-"
            row[f"{dim} (paper)"] = TABLE4[PAPER_ROWS[c]][d]
        rows.append(row)
    return pd.DataFrame(rows)


def caption(analysis: dict, screening: dict, power: dict) -> str:
    n = len(screening["kept"])
    parts = [f"Table 4: listening test, 5-point means with 95% bootstrap CIs over sessions; number of sessions: {n} "
             f"(of {screening['n_files']} files; excluded {screening['n_excluded']}: "
             + ", ".join(f"{k} {v}" for k, v in screening["counts"].items()) + "). Paper: 19 complete sessions."]
    for dim in DIMENSIONS:
        f = analysis[dim]["friedman"]
        if np.isfinite(f["chi2"]):
            parts.append(f"{dim}: Friedman chi2({f['df']}) = {f['chi2']:.2f}, p = {f['p']:.3g}, "
                         f"Kendall's W = {f['kendall_w']:.2f}.")
    needed = ", ".join(f"{d} {v['sessions_needed'] if v['sessions_needed'] else '>' + str(max(v['power']))}"
                       for d, v in power["dimensions"].items())
    parts.append(f"SIMULATION (assumed SD {power['sd']}, rho {power['rho']}, item SD {power['item_sd']}; "
                 f"paper means): complete sessions for {power['target_power']:.0%} power, LiveBand vs SMG after "
                 f"Holm: {needed}.")
    return " ".join(parts)


def figure(analysis: dict, n_sessions: int, path) -> None:
    fig, axes = plt.subplots(1, len(DIMENSIONS), figsize=(3.2 * len(DIMENSIONS), 3.2), sharey=True)
    x = np.arange(len(CONDITIONS))
    for ax, (d, dim) in zip(axes, enumerate(DIMENSIONS)):
        ax.scatter(x, [TABLE4[PAPER_ROWS[c]][d] for c in CONDITIONS], marker="x", color="k", label="paper", zorder=3)
        if n_sessions:
            m = [analysis[dim]["means"][c] for c in CONDITIONS]
            mean = np.array([v["mean"] for v in m])
            err = np.abs(np.array([[v["low"] for v in m], [v["high"] for v in m]]) - mean)
            ax.bar(x, mean, yerr=np.nan_to_num(err), alpha=0.6, capsize=3, label="this study")
        ax.set_xticks(x, [c.replace("_", " ") for c in CONDITIONS], rotation=30)
        ax.set_title(dim.replace("_", " "))
        ax.set_ylim(1, 5)
    axes[0].set_ylabel("mean rating (1-5)")
    axes[0].legend(loc="upper right", fontsize=7)
    fig.suptitle(f"Listening test: number of sessions: {n_sessions}")
    fig.tight_layout(rect=(0, 0, 1, 0.93))  # the title above the panels' own titles, not over them
    save_figure(fig, path)


def write_report(analysis: dict, screening: dict, power: dict, results) -> None:
    n = len(screening["kept"])
    write_table(table4(analysis, n), results / "table4", caption(analysis, screening, power))
    figure(analysis, n, results / "figures" / "listening.png")
