"""Stage `listening_stats`: Table 4 from the collected listening-test responses.

Reads every ``<listening.responses>/*.json`` (the folder may be absent: 0 sessions), validates
each with the shared validator, applies the pre-registered exclusions (counts per reason), and
per dimension computes Friedman + Kendall's W, 6 pairwise Wilcoxon tests Holm-corrected,
rank-biserial r and bootstrap CIs; plus the power SIMULATION. Writes results/table4.{csv,md,tex},
results/listening.json and results/figures/listening.png.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from liveband.config import Params
from liveband.errors import LiveBandError
from liveband.listening.power import power_analysis
from liveband.listening.report import write_report
from liveband.listening.schema import MAX_RESPONSE_BYTES, validate_config
from liveband.listening.screening import participant_matrix, screen
from liveband.listening.stats import analyse
from liveband.stages.runner import run_stage
from liveband.utils.atomic import write_json

log = logging.getLogger("liveband.listening_stats")

CONFIG = Path("listening/kit/config.json")
KEY = Path("listening/key.csv")


def read_responses(folder: Path) -> dict[str, object]:
    """``{file name: parsed JSON or None (unreadable)}`` of every *.json in ``folder`` (none if absent)."""
    out: dict[str, object] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            raw = path.read_bytes()
            out[path.name] = json.loads(raw) if len(raw) <= MAX_RESPONSE_BYTES else None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            out[path.name] = None
    return out


def _finite(obj):
    """JSON-safe: NaN -> None."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def body(params: Params, args: argparse.Namespace) -> None:
    lp, st = params.listening, params.statistics
    try:
        config = json.loads(CONFIG.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise LiveBandError(f"{CONFIG}: cannot read ({exc.__class__.__name__})") from None
    problems = validate_config(config)
    if problems:
        raise LiveBandError(f"{CONFIG}: {problems[0]}")
    key = pd.read_csv(KEY, dtype=str, keep_default_na=False)
    conditions = dict(zip(key.token, key.condition))
    responses = read_responses(Path(lp.responses))
    screening = screen(responses, config, conditions)
    for name, reasons in screening["reasons"].items():
        log.info("excluded %s: %s", name, ", ".join(reasons))
    kept = [responses[name] for name in screening["kept"]]
    analysis = analyse(participant_matrix(kept, conditions), n_boot=st.n_boot_mean, seed=st.seed, level=st.level)
    pw = lp.power
    power = power_analysis(pw.sd, pw.rho, pw.item_sd, config["items_per_test"], pw.n_sim,
                           list(range(3, pw.max_sessions + 1)), st.alpha, pw.seed, pw.target)
    results = Path(args.results)
    write_report(analysis, screening, power, results)
    write_json(results / "listening.json", _finite({
        "kit_id": config["kit_id"], "n_sessions": len(kept), "screening": screening, "analysis": analysis,
        "power_simulation": power}))
    log.info("listening: %d sessions kept of %d files", len(kept), screening["n_files"])


def main(argv: list[str] | None = None) -> int:
    return run_stage("listening_stats", body, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
