"""Stage `extended_report`: the extended scale beside the default one (``results/extended/``).

The extended scale trains the headline systems longer (``scale: extended`` variants; each
evaluation system with ``extends: X`` is the longer-trained X) on the default scale's data,
autoencoder and references, which are identical by construction. Written here:

- ``claims.{csv,md}``: every claim the extended systems can decide (A and B both present once
  each headline system is replaced by its longer-trained version), tested at both scales side
  by side. Default rows are those of ``results/claims.md`` (same Holm families); extended rows
  are Holm-corrected within the claims tested at that scale; one training seed there.
- ``headline.{csv,md,tex}``: each extended system and the system it extends, every metric with
  its 95% interval (first segment and drift), with the training steps of each.
- ``figures/steps.png``: the key metrics against training steps for each extended family
  (every evaluated checkpoint of the same run: e.g. the ablation snapshot, the default model,
  the longer run), with 95% intervals.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from liveband.config import Params
from liveband.errors import LiveBandError
from liveband.reports.claims import claims_caption, evaluate_claims, write_claims
from liveband.reports.claims_list import CLAIMS, SYSTEM_LABELS
from liveband.reports.evidence_inputs import build_evidence, flags_note, metric_flags
from liveband.reports.plots import save_figure
from liveband.reports.tables import write_table
from liveband.reports.uncertainty import system_summary
from liveband.stages.runner import run_stage
from liveband.utils.checkpoint import load_checkpoint
from liveband.utils.environment import describe, environment

log = logging.getLogger("liveband.extended_report")
OUT = Path("results/extended")
KEY_PREFIXES = ("FAD-", "KAD-", "BA F1 (", "COCOLA-local full")  # the figure's metrics (no margins)


def training_steps(checkpoint: str) -> int:
    """The step a model bundle (or snapshot bundle) was saved at."""
    return int(load_checkpoint(checkpoint)["step"])


def families(params: Params) -> dict[str, list[str]]:
    """``{extended system: [every evaluated system from the same run or the run it extends]}``:
    systems whose checkpoints sit in the same model folder (final model and snapshots)."""
    systems = params.evaluation.systems
    folder = {name: str(Path(spec.checkpoint).parent) for name, spec in systems.items()}
    out = {}
    for name, spec in params.evaluation.at_scale("extended").items():
        folders = {folder[name], folder[spec.extends]}
        out[name] = [s for s in systems if folder[s] in folders and systems[s].kind == spec.kind]
    return out


def decidable(extended: dict[str, str]) -> list:
    """The claims both of whose systems exist at the extended scale."""
    return [c for c in CLAIMS if c.a in extended and (c.b is None or c.b in extended)]


def steps_figure(evidence, members: dict[str, list[str]], steps: dict[str, int], columns: list[str],
                 path: Path) -> None:
    keys = [c for c in columns if c.startswith(KEY_PREFIXES) and not c.endswith("margin")]
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.0), squeeze=False)
    for ax, column in zip(axes[0], keys, strict=True):
        for ext, names in members.items():
            names = sorted(names, key=steps.get)
            rows = [system_summary(evidence, n, [column]).iloc[0] for n in names]
            x = np.array([steps[n] for n in names], dtype=float)
            y = np.array([r.value for r in rows], dtype=float)
            err = np.array([[r.value - r.ci_low, r.ci_high - r.value] for r in rows], dtype=float).T
            base = names[0] if ext not in SYSTEM_LABELS else ext
            ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=SYSTEM_LABELS.get(base, ext))
        ax.set_title(column, fontsize=8)
        ax.set_xlabel("training steps", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Key metrics (first segment) against training steps, 95% intervals", fontsize=9)
    save_figure(fig, path)


def run(params: Params, args: argparse.Namespace) -> None:
    ext_specs = params.evaluation.at_scale("extended")
    if not ext_specs:
        raise LiveBandError("evaluation.systems: no system has `extends` (nothing at the extended scale)")
    default = list(params.evaluation.at_scale("default"))
    replaced = {spec.extends: name for name, spec in ext_specs.items()}
    references = [s for s in default if params.evaluation.systems[s].kind in ("ground_truth", "codec", "mismatched")]
    ext_map = {s: s for s in references} | replaced  # claim name -> evaluated system
    claims = decidable(ext_map)
    ev_default = build_evidence(params, {s: s for s in default})
    ev_extended = build_evidence(params, ext_map)
    columns = ev_default.columns()
    flags = metric_flags(columns)
    st = params.statistics
    ids = {c.id for c in claims}
    rows_default = evaluate_claims({"default": ev_default}, alpha=st.alpha, metric_flags=flags)
    rows_extended = evaluate_claims({"extended": ev_extended}, claims, alpha=st.alpha, metric_flags=flags)
    rows = pd.concat([rows_default[rows_default["claim"].isin(ids)], rows_extended], ignore_index=True)
    env = environment(params.profile)
    members = families(params)
    steps = {s: training_steps(params.evaluation.systems[s].checkpoint) for fam in members.values() for s in fam}
    scale_note = ", ".join(f"{SYSTEM_LABELS.get(b, b)}: {steps.get(b, '?')} -> {steps[e]} steps"
                           for b, e in replaced.items())
    write_claims(rows, OUT / "claims",
                 f"Claims at the default and the extended scale ({scale_note}; same data, autoencoder, test "
                 f"examples and references). Default rows are those of results/claims.md (Holm over all its "
                 f"claims); extended rows are Holm-corrected within the {len(claims)} claims decidable there "
                 f"(both systems trained at that scale) and have ONE training seed (no seed check). "
                 + claims_caption(ev_default, st.alpha) + f" {flags_note(flags)} {describe(env)}.")
    table = []
    for base, ext in replaced.items():
        for scale, ev, name in (("default", ev_default, base), ("extended", ev_extended, base)):
            summary = system_summary(ev, name, columns)
            evaluated = name if scale == "default" else ext
            table.append({"System": SYSTEM_LABELS.get(base, base), "Scale": scale, "Steps": steps.get(evaluated),
                          **{f"{c} first": v for c, v in zip(summary.column, summary.first_cell, strict=True)},
                          **{f"{c} drift": v for c, v in zip(summary.column, summary.drift_cell, strict=True)}})
    write_table(pd.DataFrame(table), OUT / "headline",
                f"Headline systems at both scales: value [95% bootstrap interval over examples; FAD/KAD "
                f"clip-level] on the first segment, and drift (second - first) [interval]. {describe(env)}.")
    ev_all = build_evidence(params, {s: s for fam in members.values() for s in fam})
    steps_figure(ev_all, {replaced_by: fam for replaced_by, fam in
                          ((spec.extends, members[name]) for name, spec in ext_specs.items())},
                 steps, columns, OUT / "figures" / "steps.png")
    log.info("extended report: %d claims at both scales", len(claims))


def main(argv: list[str] | None = None) -> int:
    return run_stage("extended_report", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
