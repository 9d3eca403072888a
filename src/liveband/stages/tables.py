"""Stage `tables`: Tables 1-3 (CSV, Markdown, LaTeX), the drift figure and results/README.md.

Reads every ``results/eval/<system>.json`` and the stage reports, and writes them beside
the paper's numbers, naming the backend behind every column and the profile that ran.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from liveband.config import Params
from liveband.reports.benchmark_tables import table1, table2, table3, unavailable_note
from liveband.reports.plots import save_figure
from liveband.reports.results_readme import results_readme
from liveband.reports.tables import write_table
from liveband.stages.runner import run_stage
from liveband.utils.atomic import write_text

log = logging.getLogger("liveband.tables")
R = Path("results")


def drift_figure(results: dict[str, dict], path: Path) -> None:
    streaming = {k: v for k, v in results.items() if v.get("drift")}
    keys = sorted({k for v in streaming.values() for k in v["drift"]})
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        names = list(streaming)
        values = [streaming[n]["drift"].get(key, np.nan) for n in names]
        ax.barh(names, values, color=["tab:red" if v > 0 and key.startswith("FAD") else "tab:blue" for v in values])
        ax.axvline(0, color="k", lw=0.8)
        ax.set_title(f"{key}\n(second - first 10 s)", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle("Drift per streaming system (FAD: lower is better; BA, adherence: higher is better)", fontsize=9)
    save_figure(fig, path)


def run(params: Params, args: argparse.Namespace) -> None:
    results = {}
    for name in params.evaluation.systems:
        results[name] = json.loads((R / "eval" / f"{name}.json").read_text())
    profile = params.profile
    n = results["ground_truth"]["n_examples"]
    seg = params.evaluation.segment_seconds
    common = (f"Profile '{profile}', {n} test examples, segments of {seg:g} s starting "
              f"{params.evaluation.lead_frames} latent frames in. Cells: first segment / drift (second - first).")
    write_table(table1(results), R / "table1",
                f"Table 1: main benchmark. {common} Our metric backends are named in each column header; "
                f"the paper's columns are its reported values. {unavailable_note(results)}")
    write_table(table2(results), R / "table2",
                f"Table 2: sink ablation at tau 0.1 s, drift only (ablation-length models). {common}")
    variants = params.gan.variants
    write_table(table3(results), R / "table3",
                f"Table 3: gradient-penalty ablation, first segment (ablation-length models). {common} "
                f"Fixed weights here: small = {variants['abl_gp_small'].gp_weight:g}, 'tuned' = "
                f"{variants['abl_gp_tuned'].gp_weight:g} (AdaGP's starting weight; no sweep was run to tune "
                f"it); AdaGP = the abl_sink model (target advantage "
                f"{params.gan.train.gradient_penalty.target_advantage:g}).")
    drift_figure(results, R / "figures" / "drift.png")
    write_text(R / "README.md", results_readme(params, results))
    log.info("tables written for profile %s", profile)


def main(argv: list[str] | None = None) -> int:
    return run_stage("tables", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
