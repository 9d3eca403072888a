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


def unavailable_note(results: dict[str, dict]) -> str:
    """One sentence per paper backend that has no column of ours, with its reason."""
    present = {k for res in results.values() for k in res["segments"][0]}
    notes = [f"{metric} (ours): {reason}." for metric, (key, reason) in OURS_FOR_PAPER.items() if key not in present]
    return " ".join(notes + [NOT_RUN_CLAP_REASON])


def fmt(value: float | None, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def our_metric_keys(results: dict[str, dict]) -> list[str]:
    """Our metric names in a stable order: FAD backends, BA, adherence modes."""
    keys: list[str] = []
    for res in results.values():
        keys.extend(k for k in res["segments"][0] if k not in keys)
    order = lambda k: (0 if k.startswith("FAD") else 1 if k.startswith("BA") else 2, k)  # noqa: E731
    return sorted(keys, key=order)


def cell(res: dict | None, key: str) -> str:
    if res is None:
        return NOT_RUN_CLAP
    first = res["segments"][0].get(key)
    if first is None:
        return "-"
    drift = (res.get("drift") or {}).get(key)
    return f"{fmt(first['value'])} / {fmt(drift, signed=True)}"


def paper_cell(row: str | None, metric: str) -> str:
    if row is None:
        return "-"
    first, drift = TABLE1[row][PAPER_METRICS.index(metric)]
    return f"{first:.2f} / {fmt(drift, signed=True) if drift is not None else '-'}"


def table1(results: dict[str, dict]) -> pd.DataFrame:
    """Our columns (named by backend) first, then the paper's; see ``unavailable_note``."""
    keys = our_metric_keys(results)
    rows = []
    for label, system, paper_row, tau in TABLE1_ROWS:
        res = results.get(system) if system else None
        row = {"Model": label, "tau [s]": tau}
        for key in keys:
            row[f"{key} (ours)"] = cell(res, key)
        for metric in PAPER_METRICS:
            row[f"{metric} (paper)"] = paper_cell(paper_row, metric)
        rows.append(row)
    return pd.DataFrame(rows)


def _value(res: dict | None, key: str, drift: bool) -> str:
    if res is None:
        return "not run"
    if drift:
        return fmt((res.get("drift") or {}).get(key), signed=True)
    entry = res["segments"][0].get(key)
    return fmt(entry["value"]) if entry else "-"


def ablation_table(results: dict[str, dict], rows: list[tuple[str, str]], paper: dict, drift: bool) -> pd.DataFrame:
    keys = our_metric_keys(results)
    out = []
    for label, system in rows:
        row = {"Model": label}
        for key in keys:
            row[f"{key} (ours)"] = _value(results.get(system), key, drift)
        for metric, value in zip(PAPER_METRICS, paper[label], strict=True):
            row[f"{metric} (paper)"] = f"{value:+.2f}" if drift else f"{value:.2f}"
        out.append(row)
    return pd.DataFrame(out)


def table2(results: dict[str, dict]) -> pd.DataFrame:
    return ablation_table(results, list(TABLE2_ROWS), TABLE2, drift=True)


def table3(results: dict[str, dict]) -> pd.DataFrame:
    return ablation_table(results, list(TABLE3_ROWS), TABLE3, drift=False)
