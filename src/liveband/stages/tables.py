"""Stage `tables`: Tables 1-3 with 95% intervals, the claims table, the drift figure, the
environment record, results/README.md and the headline metrics (results/headline/{first,drift}/<system>.json).

Reads every system's per-example scores and per-clip embeddings (``evaluate``) and the FAD/KAD
reference set (``eval_reference``). Every cell is ``value [95% CI] / drift [95% CI]`` (bootstrap
over examples; FAD/KAD: clip-level bootstrap against the fixed reference); systems trained with
several seeds get a row with the spread between seeds. The paper's claims are tested with paired
tests, Holm-corrected within each family, and get a verdict (``results/claims.md``).
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from liveband.config import Params
from liveband.reports.benchmark_tables import (
    lazy_penalty_note,
    table1,
    table2,
    table3,
    tuned_note,
    unavailable_note,
)
from liveband.reports.claims import claims_caption, evaluate_claims, write_claims
from liveband.reports.evidence_inputs import build_evidence, flag_label, flags_note, metric_flags
from liveband.reports.headline import headline_metrics
from liveband.reports.plots import save_figure
from liveband.reports.results_readme import results_readme
from liveband.reports.tables import write_table
from liveband.reports.uncertainty import seed_groups, seed_spread, system_summary
from liveband.stages.runner import run_stage
from liveband.utils.atomic import write_json, write_text
from liveband.utils.environment import describe, environment

log = logging.getLogger("liveband.tables")
R = Path("results")


def drift_figure(cells: dict, path: Path) -> None:
    """Drift (second - first segment) with its 95% interval, per streaming system and metric."""
    streaming = {k: v for k, v in cells.items() if np.isfinite(v.drift.to_numpy(dtype=float)).any()}
    columns = list(next(iter(streaming.values())).column)
    fig, axes = plt.subplots(1, len(columns), figsize=(3.0 * len(columns), 0.35 * len(streaming) + 1.8),
                             squeeze=False)
    for ax, column in zip(axes[0], columns, strict=True):
        names = list(streaming)
        rows = [streaming[n][streaming[n].column == column].iloc[0] for n in names]
        values = np.array([r.drift for r in rows], dtype=float)
        err = np.array([[r.drift - r.drift_ci_low, r.drift_ci_high - r.drift] for r in rows], dtype=float).T
        worse = values > 0 if column.startswith(("FAD", "KAD")) else values < 0
        ax.barh(names, values, xerr=err, color=np.where(worse, "tab:red", "tab:blue"), capsize=2)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_title(f"{column}\n(second - first segment)", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle("Drift per streaming system with 95% intervals (red: worse over time)", fontsize=9)
    save_figure(fig, path)


def environments() -> dict:
    """The environment of every stage that produced these results (from their timing records)."""
    seen = {}
    for path in sorted(glob.glob(str(R / "timings" / "*.json"))):
        record = json.loads(Path(path).read_text())
        if record.get("environment"):
            seen[record["stage"]] = record["environment"]
    return seen


def run(params: Params, args: argparse.Namespace) -> None:
    systems = list(params.evaluation.at_scale("default"))  # the extended scale: stage extended_report
    evidence = build_evidence(params, systems)
    columns = evidence.columns()
    flags = metric_flags(columns)
    cells = {s: system_summary(evidence, s, columns) for s in systems}
    spreads = {base: seed_spread(evidence, members, columns) for base, members in seed_groups(systems).items()}
    for system, summary in cells.items():  # flat, for `dvc metrics show` / `diff`
        for part, values in headline_metrics(summary).items():
            write_json(R / "headline" / part / f"{system}.json", values)
    env = environment(params.profile)
    write_json(R / "environment.json", {"tables": env, "stages": environments()})
    n = len(evidence.systems["ground_truth"].examples.query("segment == 0"))
    st = params.statistics
    common = (f"Profile '{params.profile}', {n} test examples, segments of {params.evaluation.segment_seconds:g} s "
              f"starting {params.evaluation.lead_frames} latent frames in. Cells: value [{st.level:.0%} bootstrap "
              f"interval over examples; FAD: clip-level] / drift (second - first segment) [interval]. "
              f"{describe(env)}; reruns are bit-identical only on the same CPU type. {flags_note(flags)}")
    labels = {c: f"{c} (failed validation)" if c in flags else c for c in columns}
    write_table(table1(cells, spreads, columns).rename(columns=lambda k: flag_label(k, labels)), R / "table1",
                f"Table 1: main benchmark. {common} Our metric backends are named in each column header; "
                f"the paper's columns are its reported values. Rows 'spread over training seeds' give the "
                f"range (min-max) of the point values over the seeds trained. {unavailable_note(columns)}")
    write_table(table2(cells, columns).rename(columns=lambda k: flag_label(k, labels)), R / "table2",
                f"Table 2: sink ablation at tau 0.1 s, drift only (ablation-length models; 'with sink' is "
                f"the tau01 model at step {params.gan.train.snapshot_step}, same settings and seed). {common}")
    variants, gp = params.gan.variants, params.gan.train.gradient_penalty
    tuned = variants["abl_gp_tuned"].gp_weight
    write_table(table3(cells, columns).rename(columns=lambda k: flag_label(k, labels)), R / "table3",
                f"Table 3: gradient-penalty ablation, first segment (ablation-length models). {common} "
                f"Fixed weights here: small = {variants['abl_gp_small'].gp_weight:g}, 'tuned' = "
                f"{tuned:g} ({tuned_note(tuned, gp.weight)}); "
                f"AdaGP = the tau01 model at the ablation step (target advantage {gp.target_advantage:g}). "
                f"{lazy_penalty_note(gp.penalty_interval)}")
    rows = evaluate_claims(evidence, alpha=st.alpha, metric_flags=flags)
    write_claims(rows, R / "claims", claims_caption(evidence, st.alpha) + f" {describe(env)}.")
    drift_figure(cells, R / "figures" / "drift.png")
    results = {name: json.loads((R / "eval" / f"{name}.json").read_text()) for name in systems}
    write_text(R / "README.md", results_readme(params, results, rows, env))
    log.info("tables written for profile %s", params.profile)


def main(argv: list[str] | None = None) -> int:
    return run_stage("tables", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
