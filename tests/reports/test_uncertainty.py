import numpy as np
import pytest

from liveband.reports.evidence import BootstrapSettings, Evidence, set_level_columns
from liveband.reports.uncertainty import format_interval, seed_groups, seed_spread, system_summary
from liveband.stats.frechet import FrechetDistance
from liveband.stats.paired import Comparison

BA = "BA F1 (madmom)"


def test_format_interval():
    c = Comparison(0.6152, 0.5521, 0.6849, np.nan, "", np.nan, 10)
    assert format_interval(c) == "0.615 [0.55, 0.68]"
    assert format_interval(Comparison(0.012, -0.031, 0.05, 0.4, "", 0.1, 10), signed=True) == "+0.012 [-0.03, +0.05]"
    assert format_interval(Comparison(0.5, np.nan, np.nan, np.nan, "", np.nan, 1)) == "0.500"
    assert format_interval(None) == "-" and format_interval(Comparison(np.nan, 0, 0, 0, "", 0, 0)) == "-"


def test_system_summary_value_and_drift(make_system, make_embeddings):
    rng = np.random.default_rng(0)
    first, second = rng.uniform(0, 1, 30), rng.uniform(0, 1, 30)
    systems = {"streaming": make_system({0: {BA: first}, 1: {BA: second}}, make_embeddings(rng, 30, 0.2)),
               "offline": make_system({0: {BA: first}}, make_embeddings(rng, 30, 0.2, segments=(0,)))}
    ev = Evidence(systems, {"FAD-toy": rng.normal(size=(200, 6))},
                  set_level_columns({"FAD": FrechetDistance()}, ["FAD-toy"]), BootstrapSettings(300, 60))
    table = system_summary(ev, "streaming").set_index("column")
    assert list(table.index) == ["FAD-toy", BA]
    ba = table.loc[BA]
    assert ba["value"] == pytest.approx(first.mean()) and ba["ci_low"] < ba["value"] < ba["ci_high"]
    assert ba["drift"] == pytest.approx((second - first).mean()) and 0 <= ba["drift_p"] <= 1
    assert ba["first_cell"].startswith(f"{first.mean():.3f} [") and ba["drift_cell"][0] in "+-"
    fad = table.loc["FAD-toy"]
    assert fad["ci_low"] < fad["value"] < fad["ci_high"] and np.isfinite(fad["drift"])
    offline = system_summary(ev, "offline").set_index("column")
    assert offline.loc[BA, "drift_cell"] == "-" and np.isnan(offline.loc["FAD-toy", "drift"])


def test_seed_groups():
    names = ["gan_tau01", "gan_tau01_seed2", "gan_tau01_seed1", "smg_tau0_seed1", "gan_tau1", "codec"]
    assert seed_groups(names) == {"gan_tau01": ["gan_tau01", "gan_tau01_seed1", "gan_tau01_seed2"],
                                  "smg_tau0": ["smg_tau0_seed1"]}


def test_seed_spread(make_system):
    systems = {"x": make_system({0: {BA: np.array([0.2, 0.4])}, 1: {BA: np.array([0.3, 0.5])}}),
               "x_seed1": make_system({0: {BA: np.array([0.4, 0.6])}, 1: {BA: np.array([0.4, 0.6])}}),
               "x_seed2": make_system({0: {BA: np.array([0.5, 0.7])}})}
    row = seed_spread(Evidence(systems), ["x", "x_seed1", "x_seed2"]).iloc[0]
    assert (row["first_min"], row["first_max"]) == pytest.approx((0.3, 0.6))
    assert row["first_sd"] == pytest.approx(np.std([0.3, 0.5, 0.6], ddof=1))
    assert row["first_cell"] == "0.300-0.600 (3 seeds)"
    assert row["drift_n_seeds"] == 2 and row["drift_cell"] == "+0.000-+0.100 (2 seeds)"
