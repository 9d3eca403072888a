"""Statistical checks that a metric orders clean audio above a controlled degradation of it.

Per-example metrics (adherence, BA F1) score each example clean and degraded: a one-sided
paired Wilcoxon signed-rank test of degraded vs clean, Holm-corrected within the metric's
family of checks; a check passes when the corrected p < alpha AND the median difference
(degraded - clean) lies on the expected side. When the family is too large for the number
of examples to ever reach alpha (smallest exact one-sided p is 2^-n), the status is
``n too small`` rather than a verdict on the metric.

Set-level metrics (FAD, KAD) are resampled over clips (the same bootstrap resample for clean
and degraded, so the difference is paired): a check passes when the lower end of the 95%
percentile interval of metric(degraded) - metric(clean) is > 0.

Every check reports its effect size: the mean difference (degraded - clean), over examples
for per-example metrics and on all clips for set-level ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

from liveband.errors import LiveBandError
from liveband.stats.multiple import holm

PASS, FAIL, UNDERPOWERED = "PASS", "FAIL", "n too small"
CLEAN = "clean"
RULE = ("Per-example metrics (adherence, BA F1): one-sided paired Wilcoxon signed-rank test of degraded vs "
        "clean over examples, Holm-corrected within each metric's checks; PASS when the corrected p < {alpha:g} "
        "and the median difference has the expected sign ('n too small': with fewer than {n_min} examples no p "
        "could reach it). "
        "Set-level metrics (FAD, KAD): {n_bootstrap} bootstrap resamples of the clips, the same for clean and "
        "degraded; PASS when the lower end of the 95% interval of metric(degraded) - metric(clean) is > 0. "
        "Difference = degraded - clean (mean over examples, or on all clips); a listener expects adherence "
        "and BA F1 to fall and FAD/KAD to rise.")


@dataclass(frozen=True)
class CheckResult:
    metric: str  # result key as in the evaluation, e.g. "FAD-logmel", "BA F1 (madmom)"
    check: str  # the degradation, e.g. "shift 50 ms"
    expect: str  # "fall" or "rise": what a listener expects of the metric under it
    test: str  # "wilcoxon" (per example) or "bootstrap" (set level)
    n: int  # examples (clips) tested
    difference: float  # effect size: mean degraded - clean (set level: on all clips)
    median_difference: float | None  # per example only
    p_value: float | None  # one-sided; bootstrap: share of resamples with no change in the expected direction
    p_holm: float | None  # per example: Holm-corrected within the metric
    ci_low: float | None  # bootstrap 95% interval of the difference
    ci_high: float | None
    status: str  # PASS, FAIL or "n too small"


def paired_checks(metric: str, clean: np.ndarray, degraded: dict[str, np.ndarray], expect: str,
                  alpha: float = 0.05) -> list[CheckResult]:
    """One family: per-example scores ``clean`` ``(n,)`` against each degraded ``(n,)`` array."""
    sign = _sign(expect)
    clean = np.asarray(clean, dtype=np.float64)
    diffs = {name: np.asarray(v, dtype=np.float64) - clean for name, v in degraded.items()}
    if any(d.shape != clean.shape for d in diffs.values()):
        raise LiveBandError(f"metric validation: {metric}: clean and degraded scores differ in length")
    p_raw = [_one_sided_wilcoxon(d, sign) for d in diffs.values()]
    p_holm = holm(p_raw)
    testable = 0.5 ** len(clean) * len(diffs) < alpha
    out = []
    for (name, d), p, q in zip(diffs.items(), p_raw, p_holm, strict=True):
        median = float(np.median(d))
        ok = q < alpha and sign * median > 0
        out.append(CheckResult(metric, name, expect, "wilcoxon", len(d), float(np.mean(d)), median, float(p),
                               float(q), None, None, PASS if ok else FAIL if testable else UNDERPOWERED))
    return out


def bootstrap_checks(metric: str, statistic: Callable[[str, np.ndarray], np.ndarray], conditions: list[str],
                     n_clips: int, expect: str, n_bootstrap: int, rng: np.random.Generator) -> list[CheckResult]:
    """One family of set-level checks. ``statistic(condition, counts)`` gives the metric of each clip
    multiset under ``condition`` (``CLEAN`` or a degradation): row b of ``counts`` (B, n_clips) says
    how often each clip occurs (all ones = every clip once), as the tables' bootstrap batches take it."""
    sign = _sign(expect)
    resamples = rng.integers(0, n_clips, size=(n_bootstrap, n_clips))
    counts = np.vstack([np.ones(n_clips)] + [np.bincount(r, minlength=n_clips) for r in resamples])
    clean_all, *clean = statistic(CLEAN, counts)
    out = []
    for name in conditions:
        value_all, *values = statistic(name, counts)
        diff = np.asarray(values) - np.asarray(clean)
        low, high = np.percentile(diff, [2.5, 97.5])
        ok = (low > 0) if sign > 0 else (high < 0)
        out.append(CheckResult(metric, name, expect, "bootstrap", n_clips, float(value_all - clean_all), None,
                               float(np.mean(sign * diff <= 0)), None, float(low), float(high), PASS if ok else FAIL))
    return out


def failed_checks(source: str | Path | dict) -> dict[str, list[str]]:
    """``{metric key: [failed check, ...]}`` from ``results/metric_validation.json`` (a path or its
    content); metrics whose checks all passed (or could not be tested) are left out."""
    data = source if isinstance(source, dict) else _read_json(Path(source))
    try:
        rows = data["checks"]
        failed: dict[str, list[str]] = {}
        for row in rows:
            if row["status"] == FAIL:
                failed.setdefault(row["metric"], []).append(row["check"])
    except (KeyError, TypeError):
        raise LiveBandError(f"{source if not isinstance(source, dict) else 'metric validation'}: "
                            "not a metric validation result (needs checks with metric, check, status)") from None
    return failed


def rule_text(alpha: float, n_bootstrap: int, n_checks: int) -> str:
    """The caption's statement of the pass rule; ``n_checks``: size of a per-example family."""
    n_min = math.floor(math.log2(max(n_checks, 1) / alpha)) + 1  # smallest n with 2^-n * n_checks < alpha
    return RULE.format(alpha=alpha, n_bootstrap=n_bootstrap, n_min=n_min)


def as_dicts(results: list[CheckResult]) -> list[dict]:
    return [asdict(r) for r in results]


def _sign(expect: str) -> int:
    if expect not in ("fall", "rise"):
        raise LiveBandError(f"metric validation: expect must be 'fall' or 'rise', got '{expect}'")
    return 1 if expect == "rise" else -1


def _one_sided_wilcoxon(diff: np.ndarray, sign: int) -> float:
    """p of 'diff is shifted to the side of ``sign``'; 1.0 when every difference is zero."""
    if not np.any(diff != 0):
        return 1.0
    return float(wilcoxon(diff, alternative="greater" if sign > 0 else "less").pvalue)


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise LiveBandError(f"{path}: file not found (run the metric_validation stage)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise LiveBandError(f"{path}: malformed JSON") from None
