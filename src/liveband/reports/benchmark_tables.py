"""Tables 1-3: this project's streaming evaluation beside the paper's numbers.

Each metric column is named for the backend that produced it. Where the paper's backend
could not run here (no local checkpoint), our column says ``unavailable: <reason>``; the
offline substitutes (FAD-logmel, FAD-CREPE, COCOLA-local) get their own columns and are
placed next to the paper column they stand in for, never under its name.
"""

from __future__ import annotations

import math

import pandas as pd

from liveband.reports.paper_values import PAPER_METRICS, TABLE1, TABLE2, TABLE3

# paper metric -> (our result key, reason if absent)
OURS_FOR_PAPER = {
    "FAD VGGish": ("FAD-VGGish", "unavailable: no VGGish checkpoint (metrics.fad.vggish_checkpoint)"),
    "FAD CLAP": ("FAD-CLAP", "unavailable: no LAION-CLAP checkpoint (metrics.fad.clap_checkpoint)"),
}
TABLE1_ROWS = (  # (row label, system name in evaluation.systems, paper row, tau in seconds)
    ("Ground truth", "ground_truth", "Ground truth", "-"),
    ("Ground truth through the autoencoder (codec ceiling)", "codec", None, "-"),
    ("Real stem of another song (mismatched-mix reference)", "mismatched", None, "-"),
    ("SMG", "smg_tau0", "SMG tau 0", "0"),
    ("SMG", "smg_tau1", "SMG tau 1", "1"),
    ("LiveBand", "gan_tau0", "LiveBand tau 0", "0"),
    ("LiveBand", "gan_tau01", "LiveBand tau 0.1", "0.1"),
    ("LiveBand", "gan_tau1", "LiveBand tau 1", "1"),
    ("LiveBand bidirectional (upper bound, offline)", "gan_bidirectional",
     "LiveBand bidirectional (offline bound)", "-"),
    ("LiveBand CLAP-conditioned, internal data", None, "LiveBand CLAP-conditioned, internal data", "0.1"),
)
TABLE2_ROWS = (("without sink", "gan_abl_nosink"), ("with sink", "gan_abl_sink"))  # (paper row, system)
TABLE3_ROWS = (("Fixed GP, small weight", "gan_abl_gp_small"), ("Fixed GP, tuned weight", "gan_abl_gp_tuned"),
               ("AdaGP", "gan_abl_sink"))
NOT_RUN_CLAP = "not run"
NOT_RUN_CLAP_REASON = ("The CLAP-conditioned row is not run: it needs the internal 20k-track corpus and CLAP "
                       "weights, neither available.")


def unavailable_note(columns: list[str]) -> str:
    """One sentence per paper backend that has no column of ours, with its reason."""
    notes = [f"{metric} (ours): {reason}." for metric, (key, reason) in OURS_FOR_PAPER.items() if key not in columns]
    return " ".join(notes + [NOT_RUN_CLAP_REASON])


def fmt(value: float | None, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def paper_cell(row: str | None, metric: str) -> str:
    if row is None:
        return "-"
    first, drift = TABLE1[row][PAPER_METRICS.index(metric)]
    return f"{first:.2f} / {fmt(drift, signed=True) if drift is not None else '-'}"


# ``cells[system]`` is a frame from :func:`liveband.reports.uncertainty.system_summary` (one row
# per column: ``first_cell``, ``drift_cell``); ``spreads[system]`` one from ``seed_spread`` for a
# system with seed replicas (printed as an extra row under it).


def _ours(summary: pd.DataFrame | None, column: str, field: str) -> str:
    if summary is None:
        return "not run"
    row = summary[summary.column == column]
    return "-" if row.empty else str(row.iloc[0][field])


def _spread_row(label: str, spread: pd.DataFrame, columns: list[str], fields: tuple[str, ...]) -> dict:
    row = {"Model": f"{label}: spread over training seeds"}
    for column in columns:
        match = spread[spread.column == column]
        row[f"{column} (ours)"] = " / ".join(str(match.iloc[0][f]) if not match.empty else "-" for f in fields)
    return row


def table1(cells: dict[str, pd.DataFrame], spreads: dict[str, pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Our columns (named by backend; ``value [95% CI] / drift [95% CI]``) first, then the paper's."""
    rows = []
    for label, system, paper_row, tau in TABLE1_ROWS:
        summary = cells.get(system) if system else None
        row = {"Model": label, "tau [s]": tau}
        for column in columns:
            first, drift = _ours(summary, column, "first_cell"), _ours(summary, column, "drift_cell")
            row[f"{column} (ours)"] = first if first == "not run" else f"{first} / {drift}"
        for metric in PAPER_METRICS:
            row[f"{metric} (paper)"] = paper_cell(paper_row, metric)
        rows.append(row)
        if system in spreads:
            rows.append({"tau [s]": tau, **_spread_row(label, spreads[system], columns, ("first_cell", "drift_cell"))})
    return pd.DataFrame(rows).fillna("-")


def ablation_table(cells: dict[str, pd.DataFrame], columns: list[str], rows: list[tuple[str, str]], paper: dict,
                   drift: bool) -> pd.DataFrame:
    out = []
    for label, system in rows:
        row = {"Model": label}
        for column in columns:
            row[f"{column} (ours)"] = _ours(cells.get(system), column, "drift_cell" if drift else "first_cell")
        for metric, value in zip(PAPER_METRICS, paper[label], strict=True):
            row[f"{metric} (paper)"] = f"{value:+.2f}" if drift else f"{value:.2f}"
        out.append(row)
    return pd.DataFrame(out)


def table2(cells: dict[str, pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    return ablation_table(cells, columns, list(TABLE2_ROWS), TABLE2, drift=True)


def lazy_penalty_note(interval: int) -> str:
    """What weight the penalty weights (gamma) of Table 3 amount to under the lazy R1/R2
    schedule of ``gradient_penalty.penalty_interval`` (liveband.losses.r3gan)."""
    if interval == 1:
        return "R1 and R2 are applied on every D step, each with weight gamma (plain R3GAN)."
    return (f"Lazy R1/R2: a penalty every {interval} D steps, alternating R1 and R2, scaled by {interval}; "
            f"each term thus fires every {2 * interval} steps, so its effective per-step weight is gamma/2, "
            f"half that of plain R3GAN (R1 and R2 every step, each at gamma). The weights stated are gamma.")


def tuned_note(tuned: float, adagp_start: float) -> str:
    """Where Table 3's 'tuned' fixed weight comes from."""
    if tuned == adagp_start:
        return "AdaGP's starting weight, the weight it settled at in the short runs of docs/TRAINING.md"
    return f"AdaGP starts at {adagp_start:g}"


def table3(cells: dict[str, pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    return ablation_table(cells, columns, list(TABLE3_ROWS), TABLE3, drift=False)
