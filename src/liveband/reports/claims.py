"""The claims table: each pre-registered claim (``claims_list``) tested on our evaluation.

For every claim and every column of its role: the estimate (A - B, or the drift seg1 - seg0,
or A's drift minus B's drift), its 95% CI, the two-sided test and p-value (per-example
columns: Wilcoxon signed-rank on paired examples; set-level columns: paired clip-level
bootstrap), the Holm-adjusted p within the claim's family, and a verdict:

- ``better`` / ``worse`` claims: *reproduced* if p_holm < alpha and the estimate has the
  claimed sign, *contradicted* if p_holm < alpha with the opposite sign, else *inconclusive*.
- ``not_worse`` claims: *contradicted* if p_holm < alpha and A is worse; *reproduced* if
  p_holm < alpha and A is better, or if a margin is given (``margins``, per column or role)
  and the CI's worse-side end lies within it; else *inconclusive* (no difference found is
  not evidence of no difference).
- A missing system, segment or column: *inconclusive*, with the reason.
- Seed check: when A or B has training-seed replicas (``X_seed1``), the same contrast is
  estimated with each replica substituted; a reproduced/contradicted verdict stands only if
  every replica's CI excludes 0 on the same side, else it becomes *inconclusive*
  (seed-dependent). The bootstrap covers the choice of test examples, not of training seed.

Metric flags: ``metric_flags`` maps a column to the validation checks it failed. A claim row
on such a column cannot be reproduced or contradicted: its verdict becomes
``inconclusive (metric failed: <checks>; unflagged: <verdict>)``. The row stays in its Holm
family (the family was fixed before the results were seen).

Several evaluations (e.g. default and extended profile) can be passed as ``{scale: Evidence}``;
Holm runs per (scale, family) and the rendered table puts the scales side by side.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from liveband.reports.benchmark_tables import TABLE1_ROWS, TABLE2_ROWS, TABLE3_ROWS
from liveband.reports.claims_list import CLAIMS, ROLES, Claim
from liveband.reports.evidence import Evidence, MissingEvidence, Term
from liveband.reports.paper_values import PAPER_METRICS, TABLE1, TABLE2, TABLE3
from liveband.reports.uncertainty import format_interval, seed_groups
from liveband.stats.multiple import holm
from liveband.stats.paired import Comparison
from liveband.utils.atomic import atomic_path, write_text

PAPER_ROWS = {  # paper table -> {system: row label}
    "table1": {system: row for _, system, row, _ in TABLE1_ROWS if system and row},
    "table2": {system: row for row, system in TABLE2_ROWS},
    "table3": {system: row for row, system in TABLE3_ROWS},
}
ROW_COLUMNS = ["scale", "family", "claim", "statement", "source", "role", "column", "a", "b", "quantity", "kind",
               "paper", "estimate", "ci_low", "ci_high", "test", "effect", "n", "p", "reason", "seed_replicas"]

# --------------------------------------------------------------------------- the paper's side


def paper_metrics(column: str) -> tuple[str, ...]:
    """The paper metric(s) our column stands in for."""
    if column.startswith(("FAD-", "KAD-")):
        return ("FAD VGGish", "FAD CLAP")
    if column.startswith("BA F1"):
        return ("BA F1",)
    if column.startswith("COCOLA"):
        return ("COCOLA harm",) if "harmonic" in column else ("COCOLA perc",) if "percussive" in column \
            else ("COCOLA full",)
    return ()


def paper_value(table: str, system: str | None, metric: str, quantity: str) -> float | None:
    row = PAPER_ROWS[table].get(system or "")
    if row is None:
        return None
    i = PAPER_METRICS.index(metric)
    if table == "table1":
        return TABLE1[row][i][0 if quantity == "first" else 1]
    if table == "table2":
        return TABLE2[row][i] if quantity == "drift" else None
    return TABLE3[row][i] if quantity == "first" else None


def paper_cell(claim: Claim, column: str) -> str:
    """The paper's A (and B) numbers for our column, e.g. ``VGGish 1.39 vs 2.81; CLAP 0.31 vs 0.30``."""
    metrics = paper_metrics(column)
    parts = []
    for metric in metrics:
        fmt = (lambda v: "-" if v is None else f"{v:+.2f}") if claim.quantity == "drift" else \
            (lambda v: "-" if v is None else f"{v:.2f}")
        text = fmt(paper_value(claim.table, claim.a, metric, claim.quantity))
        if claim.b is not None:
            text += f" vs {fmt(paper_value(claim.table, claim.b, metric, claim.quantity))}"
        parts.append(f"{metric.split()[-1]} {text}" if len(metrics) > 1 else text)
    return "; ".join(parts) or "-"


# --------------------------------------------------------------------------- testing


def contrast(claim: Claim) -> list[Term]:
    """The claim's estimate as (coefficient, system, segment) terms: A - B, or a drift (difference)."""
    if claim.quantity == "first":
        return [(1.0, claim.a, 0), (-1.0, claim.b, 0)]
    terms = [(1.0, claim.a, 1), (-1.0, claim.a, 0)]
    if claim.b is not None:
        terms += [(-1.0, claim.b, 1), (1.0, claim.b, 0)]
    return terms


def verdict(kind: str, estimate: float, low: float, high: float, p_holm: float, alpha: float,
            lower_is_better: bool, margin: float | None = None) -> tuple[str, str]:
    """(verdict, reason) by the rules in the module docstring."""
    if not math.isfinite(p_holm) or not math.isfinite(estimate):
        return "inconclusive", "no test"
    good = -1.0 if lower_is_better else 1.0  # sign of a difference that favours A
    sign = float(np.sign(estimate)) * good  # +1: A better, -1: A worse
    significant = p_holm < alpha
    if kind in ("better", "worse"):
        claimed = 1.0 if kind == "better" else -1.0
        if significant and sign != 0:
            return ("reproduced", "") if sign == claimed else ("contradicted", "significant in the other direction")
        return "inconclusive", f"p_holm >= {alpha:g}"
    if significant and sign < 0:
        return "contradicted", "A significantly worse"
    if significant and sign > 0:
        return "reproduced", "A significantly better"
    if margin is not None and math.isfinite(low) and math.isfinite(high):
        worst = min(low * good, high * good)  # worse-side end of the CI, in "A better" units
        if worst >= -margin:
            return "reproduced", f"CI within the non-inferiority margin {margin:g}"
        return "inconclusive", f"CI reaches beyond the margin {margin:g}"
    return "inconclusive", "no significant difference (no non-inferiority margin set)"


def _row(claim: Claim, column: str, scale: str) -> dict:
    return {"scale": scale, "family": claim.family, "claim": claim.id, "statement": claim.statement,
            "source": claim.source, "role": claim.role, "column": column, "a": claim.a, "b": claim.b or "0",
            "quantity": claim.quantity, "kind": claim.kind, "paper": paper_cell(claim, column)}


def _claim_rows(claim: Claim, evidence: Evidence, scale: str) -> list[dict]:
    columns = [c for c in evidence.columns() if c.startswith(ROLES[claim.role].prefixes)]
    if not columns:
        return [_row(claim, "-", scale) | {"reason": f"no column for role {claim.role}"}]
    rows = []
    for column in columns:
        row = _row(claim, column, scale)
        try:
            c = evidence.estimate(column, contrast(claim))
        except MissingEvidence as missing:
            rows.append(row | {"reason": str(missing)})
            continue
        rows.append(row | {"estimate": c.estimate, "ci_low": c.low, "ci_high": c.high, "test": c.test,
                           "effect": c.effect, "n": c.n, "p": c.p, "reason": "",
                           "seed_replicas": seed_replicas(claim, column, evidence)})
    return rows


def seed_replicas(claim: Claim, column: str, evidence: Evidence) -> str:
    """The same contrast with training-seed replicas substituted for A and/or B (``X_seedK``), as
    ``"estimate [low, high]"`` cells joined by ``; `` ("" when neither system has replicas). A
    verdict must hold for every one of them (see :func:`seed_dependent`)."""
    groups = seed_groups(evidence.systems)
    options_a = groups.get(claim.a, [claim.a])
    options_b = groups.get(claim.b, [claim.b]) if claim.b else [None]
    cells = []
    for a, b in itertools.product(options_a, options_b):
        if (a, b) == (claim.a, claim.b):
            continue
        try:
            c = evidence.estimate(column, contrast(dataclasses.replace(claim, a=a, b=b)))
        except MissingEvidence:
            continue
        cells.append(f"{c.estimate:+.4g} [{c.low:+.4g}, {c.high:+.4g}]")
    return "; ".join(cells)


def seed_dependent(estimate: float, replicas: str) -> bool:
    """True when some seed replica's interval does not exclude 0 on the side of ``estimate``."""
    for cell in filter(None, (replicas or "").split("; ")):
        low, high = (float(x) for x in cell.split("[")[1].rstrip("]").split(","))
        if not ((estimate > 0 and low > 0) or (estimate < 0 and high < 0)):
            return True
    return False


def evaluate_claims(evidence: Evidence | Mapping[str, Evidence], claims: Sequence[Claim] = CLAIMS,
                    alpha: float = 0.05, metric_flags: Mapping[str, Sequence[str]] | None = None,
                    margins: Mapping[str, float] | None = None) -> pd.DataFrame:
    """One row per (scale, claim, column): estimate, CI, test, p, p_holm, verdict, reason."""
    scales = {"ours": evidence} if isinstance(evidence, Evidence) else dict(evidence)
    rows = [r for scale, ev in scales.items() for claim in claims for r in _claim_rows(claim, ev, scale)]
    df = pd.DataFrame(rows, columns=ROW_COLUMNS)
    df["p_holm"] = np.nan
    for _, index in df.groupby(["scale", "family"], sort=False).groups.items():
        df.loc[index, "p_holm"] = holm(df.loc[index, "p"].to_numpy(dtype=np.float64))
    flags, margins = dict(metric_flags or {}), dict(margins or {})
    verdicts = [_verdict(r, alpha, flags, margins) for r in df.to_dict("records")]
    df["verdict"] = [v for v, _ in verdicts]
    df["reason"] = [reason for _, reason in verdicts]
    df["failed_checks"] = ["; ".join(flags.get(c, ())) for c in df["column"]]
    return df


def _verdict(row: dict, alpha: float, flags: Mapping[str, Sequence[str]], margins: Mapping[str, float]):
    if row["reason"]:
        result = ("inconclusive", row["reason"])
    else:
        margin = margins.get(row["column"], margins.get(row["role"]))
        result = verdict(row["kind"], row["estimate"], row["ci_low"], row["ci_high"], row["p_holm"], alpha,
                         ROLES[row["role"]].lower_is_better, margin)
    if result[0] != "inconclusive" and seed_dependent(row["estimate"], row.get("seed_replicas")):
        result = ("inconclusive", f"seed-dependent: with other training seeds {row['seed_replicas']}; "
                                  f"unflagged: {result[0]}")
    failed = flags.get(row["column"])
    if failed:
        unflagged = "" if result[0] == "inconclusive" else f"; unflagged: {result[0]}"
        return f"inconclusive (metric failed: {', '.join(failed)}{unflagged})", result[1]
    return result


# --------------------------------------------------------------------------- rendering


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "-"
    return f"{p:.2g}" if p < 0.01 else f"{p:.3f}"


def _test(row: dict) -> str:
    if not isinstance(row.get("test"), str) or not row["test"]:
        return "-"
    effect = f", r = {row['effect']:+.2f}" if math.isfinite(row["effect"]) else ""
    return f"{row['test']}{effect}, n = {int(row['n'])}"


def render_claims(rows: pd.DataFrame) -> pd.DataFrame:
    """The readable table: claim, statement, metric, paper, then per scale ours / test / p_holm / verdict."""
    scales = list(dict.fromkeys(rows["scale"]))
    first = rows[rows["scale"] == scales[0]]
    out = pd.DataFrame({"Claim": first["claim"].to_numpy(), "Statement": first["statement"].to_numpy(),
                        "Metric": first["column"].to_numpy(), "Paper": first["paper"].to_numpy()})
    for scale in scales:
        sub = rows[rows["scale"] == scale].set_index(["claim", "column"])
        sub = sub.reindex(list(zip(first["claim"], first["column"])))
        suffix = f" ({scale})" if len(scales) > 1 else ""
        records = sub.reset_index().to_dict("records")
        out["Ours" + suffix] = [format_interval(Comparison(r["estimate"], r["ci_low"], r["ci_high"], np.nan, "",
                                                           np.nan, 0), signed=True) for r in records]
        out["Test" + suffix] = [_test(r) for r in records]
        out["p (Holm)" + suffix] = [_p(r["p_holm"]) for r in records]
        out["Verdict" + suffix] = [r["verdict"] if isinstance(r["verdict"], str) else "-" for r in records]
    return out


def claims_caption(evidence: Evidence, alpha: float = 0.05) -> str:
    """What the claims table shows and how it was computed."""
    st = evidence.settings
    mean_ci = {"bca": "BCa", "percentile": "percentile"}[st.mean_method]
    p_set = {"normal": "from the bootstrap standard error (normal approximation)",
             "centred": "from the replicates shifted to the null (Hall & Wilson)"}[st.p_method]
    return (
        "Claims of the paper (sections 6.1-6.3) tested on this project's evaluation. Paper: the paper's "
        "numbers for A vs B (drift: second 10 s minus first). Ours: A - B (drift claims: A's drift, or A's "
        f"drift minus B's) with a {st.level:.0%} CI; FAD/KAD lower is better, BA and COCOLA higher. "
        f"Per-example metrics: mean paired difference, {mean_ci} bootstrap CI ({st.n_boot_mean} resamples), "
        "two-sided Wilcoxon signed-rank test (zero differences discarded), r = matched-pairs rank-biserial. "
        f"Set-level metrics (FAD, KAD): paired clip-level bootstrap ({st.n_boot_set} replicates, every system "
        "resampled on the same example ids), percentile CI of the replicates centred on the full-set value, "
        f"two-sided p {p_set}. p (Holm): Holm-adjusted within the claim's family (one per paper table and "
        f"quantity). Verdict at alpha = {alpha:g}: reproduced = significant in the claimed direction; "
        "contradicted = significant the other way; inconclusive otherwise, or when a system or column is "
        "missing, or when the same contrast with a training-seed replica of A or B (X_seed1) has a CI that "
        "does not exclude 0 on the same side (seed-dependent). 'Not worse' claims are reproduced only by a significant gain or a CI inside a stated "
        "non-inferiority margin. A claim on a metric that failed validation is inconclusive whatever its test "
        "says (the unflagged verdict is shown)."
    )


def verdict_counts(rows: pd.DataFrame) -> str:
    """``reproduced 5, contradicted 2, inconclusive 30`` per scale (flagged rows count as inconclusive)."""
    parts = []
    for scale, sub in rows.groupby("scale", sort=False):
        kinds = sub["verdict"].str.split(" ").str[0].value_counts()
        counts = ", ".join(f"{k} {int(kinds.get(k, 0))}" for k in ("reproduced", "contradicted", "inconclusive"))
        parts.append(f"{scale}: {counts}")
    return "; ".join(parts)


def write_claims(rows: pd.DataFrame, stem: str | Path, caption: str) -> None:
    """``stem``.csv (one row per scale, claim and column, all numbers) and ``stem``.md (rendered)."""
    stem = Path(stem)
    with atomic_path(stem.with_suffix(".csv")) as tmp:
        rows.to_csv(tmp, index=False)
    table = render_claims(rows).to_markdown(index=False)
    write_text(stem.with_suffix(".md"), f"{caption}\n\n{table}\n\nVerdicts: {verdict_counts(rows)}.\n")
