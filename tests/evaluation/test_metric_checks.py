import json

import numpy as np
import pytest

from liveband.errors import LiveBandError
from liveband.evaluation.metric_checks import (
    CLEAN,
    FAIL,
    PASS,
    UNDERPOWERED,
    as_dicts,
    bootstrap_checks,
    failed_checks,
    paired_checks,
    rule_text,
)


def _statuses(results):
    return {r.check: r.status for r in results}


def test_paired_checks_pass_a_metric_that_falls_and_fail_one_that_does_not():
    rng = np.random.default_rng(0)
    clean = rng.uniform(0.5, 1.0, 20)
    degraded = {"falls": clean - 0.2 + 0.05 * rng.standard_normal(20), "constant": clean.copy(),
                "rises": clean + 0.2}
    results = paired_checks("BA F1 (toy)", clean, degraded, "fall")
    assert _statuses(results) == {"falls": PASS, "constant": FAIL, "rises": FAIL}
    falls = results[0]
    assert falls.difference == pytest.approx(np.mean(degraded["falls"] - clean))
    assert falls.median_difference < 0 and falls.p_holm < 0.05 and falls.test == "wilcoxon"
    assert results[1].p_value == 1.0  # no difference at all


def test_holm_correction_can_turn_a_raw_pass_into_a_fail():
    clean = np.zeros(8)
    barely = np.array([-8.0, -7.0, -6.0, -5.0, -4.0, -3.0, 1.0, 2.0])  # exact one-sided p = 5/256 ~ 0.02
    results = paired_checks("m", clean, {f"c{k}": barely for k in range(4)}, "fall")
    assert all(r.p_value < 0.05 and r.p_holm >= 0.05 for r in results)
    assert set(_statuses(results).values()) == {FAIL}
    assert _statuses(paired_checks("m", clean, {"c0": barely}, "fall")) == {"c0": PASS}


def test_too_few_examples_is_not_a_verdict_on_the_metric():
    results = paired_checks("m", np.ones(3), {"a": np.zeros(3), "b": np.zeros(3)}, "fall")
    assert set(_statuses(results).values()) == {UNDERPOWERED}
    assert "fewer than 6 examples" in rule_text(0.05, 100, 2)  # 2^-6 * 2 < 0.05 <= 2^-5 * 2


def test_bootstrap_checks_need_the_whole_interval_above_zero():
    rng = np.random.default_rng(1)
    per_clip = {CLEAN: rng.uniform(1.0, 2.0, 15)}
    per_clip["rises"] = per_clip[CLEAN] + rng.uniform(0.5, 1.0, 15)
    per_clip["ignored"] = per_clip[CLEAN]
    per_clip["noisy"] = per_clip[CLEAN] + rng.standard_normal(15)

    def statistic(condition, counts):  # a set-level mean of per-clip values, per multiset of clips
        return counts @ per_clip[condition] / counts.sum(axis=1)

    results = bootstrap_checks("FAD-toy", statistic, ["rises", "ignored", "noisy"], 15, "rise", 300,
                               np.random.default_rng(0))
    assert _statuses(results) == {"rises": PASS, "ignored": FAIL, "noisy": FAIL}
    rises, ignored = results[0], results[1]
    assert rises.ci_low > 0 and rises.difference == pytest.approx(np.mean(per_clip["rises"] - per_clip[CLEAN]))
    assert ignored.ci_low == ignored.ci_high == 0.0 and ignored.p_value == 1.0


def test_failed_checks_lists_only_failures_from_a_dict_or_a_file(tmp_path):
    results = paired_checks("A", np.zeros(8), {"x": -np.arange(1, 9.0), "y": np.zeros(8)}, "fall")
    results += paired_checks("B", np.zeros(8), {"x": -np.arange(1, 9.0)}, "fall")
    results += paired_checks("C", np.zeros(2), {"x": np.zeros(2)}, "fall")  # n too small: not a failure
    data = {"checks": as_dicts(results)}
    assert failed_checks(data) == {"A": ["y"]}
    path = tmp_path / "metric_validation.json"
    path.write_text(json.dumps(data))
    assert failed_checks(path) == {"A": ["y"]}
    with pytest.raises(LiveBandError, match="file not found"):
        failed_checks(tmp_path / "missing.json")
    path.write_text(json.dumps({"rows": []}))
    with pytest.raises(LiveBandError, match="not a metric validation result"):
        failed_checks(path)
