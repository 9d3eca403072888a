"""What the tables stages read: every system's evidence (per-example scores, per-clip embeddings,
the FAD/KAD reference) and the validation checks each metric column failed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from liveband.config import Params
from liveband.evaluation.metric_checks import failed_checks
from liveband.reports.evidence import BootstrapSettings, Evidence, load_system, set_level_columns
from liveband.stats.frechet import FrechetDistance
from liveband.stats.kernel import KernelDistance
from liveband.utils.checkpoint import load_checkpoint

R = Path("results")
UNREPORTED = ("harmonic margin", "percussive margin")


def build_evidence(params: Params, systems: Iterable[str] | Mapping[str, str]) -> Evidence:
    """The evidence of ``systems`` (keys of evaluation.systems) with the statistics settings of
    ``params``; a mapping names each evaluated system (value) as the system it stands for (key),
    e.g. a longer-trained model in the place of the default one."""
    names = dict(systems) if isinstance(systems, Mapping) else {s: s for s in systems}
    reference = load_checkpoint("artifacts/eval/reference.pt", kind="eval_reference")["embeddings"]
    reference = {k: v.numpy().astype(np.float64) for k, v in reference.items()}
    st = params.statistics
    systems = {k: load_system(R / "eval", "artifacts/eval/embeddings", v) for k, v in names.items()}
    for system in systems.values():  # the margin is reported for the full mode (all modes stay in the CSVs)
        system.examples.drop(columns=[c for c in system.examples.columns if c.endswith(UNREPORTED)], inplace=True)
    metrics = {"FAD": FrechetDistance(), "KAD": KernelDistance()}
    return Evidence(systems, reference, set_level_columns(metrics, reference),
                    BootstrapSettings(n_boot_mean=st.n_boot_mean, n_boot_set=st.n_boot_set, seed=st.seed,
                                      level=st.level))


def flag_label(header: str, labels: dict[str, str]) -> str:
    """``"X (ours)"`` -> ``"X (failed validation) (ours)"`` for a flagged column X."""
    name = header.removesuffix(" (ours)")
    return f"{labels[name]} (ours)" if header.endswith(" (ours)") and name in labels else header


def metric_flags(columns: list[str]) -> dict[str, list[str]]:
    """The validation checks each table column failed (``results/metric_validation.json``). A
    margin inherits its adherence metric's failures, BA F1 against true beats the tracked BA F1's."""
    failed = failed_checks(R / "metric_validation.json")
    base = lambda c: c.removesuffix(" margin").replace("BA F1 true beats (", "BA F1 (")  # noqa: E731
    return {c: failed.get(c) or failed.get(base(c)) for c in columns if failed.get(c) or failed.get(base(c))}


def flags_note(flags: dict[str, list[str]]) -> str:
    if not flags:
        return "Every metric column passed its validation checks (results/metric_validation.md)."
    return ("Columns that FAILED validation checks (results/metric_validation.md), marked '(failed validation)': "
            + "; ".join(f"{c}: {', '.join(checks)}" for c, checks in flags.items()) + ".")
