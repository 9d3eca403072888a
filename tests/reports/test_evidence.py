import numpy as np
import pandas as pd
import pytest

from liveband.errors import LiveBandError
from liveband.reports.evidence import (
    BootstrapSettings,
    Evidence,
    MissingEvidence,
    SystemEvidence,
    load_system,
    read_examples,
    set_level_columns,
)
from liveband.stats.frechet import FrechetDistance

SETTINGS = BootstrapSettings(n_boot_mean=300, n_boot_set=60)


def test_drift_and_differences_pair_examples_by_id(make_system):
    rng = np.random.default_rng(0)
    first, second = rng.normal(size=20), rng.normal(size=20)
    a = make_system({0: {"BA F1 (madmom)": first}, 1: {"BA F1 (madmom)": second}})
    shuffled = SystemEvidence(a.examples.sample(frac=1.0, random_state=1))  # row order must not matter
    b = make_system({0: {"BA F1 (madmom)": first - 0.1}})
    ev = Evidence({"a": shuffled, "b": b}, settings=SETTINGS)
    drift = ev.estimate("BA F1 (madmom)", [(1, "a", 1), (-1, "a", 0)])
    assert drift.estimate == pytest.approx(np.mean(second - first)) and drift.n == 20 and np.isfinite(drift.p)
    diff = ev.estimate("BA F1 (madmom)", [(1, "a", 0), (-1, "b", 0)])
    assert diff.estimate == pytest.approx(0.1) and diff.p < 1e-3  # every pair favours a
    value = ev.estimate("BA F1 (madmom)", [(1, "b", 0)])
    assert value.estimate == pytest.approx(np.mean(first - 0.1)) and np.isnan(value.p)


def test_nan_and_missing_examples_drop_only_those_pairs(make_system):
    a = make_system({0: {"m": np.array([1.0, 2.0, np.nan, 4.0])}})
    b = make_system({0: {"m": np.array([0.0, 0.0, 0.0])}})  # no example 3
    c = Evidence({"a": a, "b": b}, settings=SETTINGS).estimate("m", [(1, "a", 0), (-1, "b", 0)])
    assert c.n == 2 and c.estimate == pytest.approx(1.5)


def test_missing_inputs_raise_missing_evidence(make_system):
    ev = Evidence({"a": make_system({0: {"m": np.ones(5)}})}, settings=SETTINGS)
    for column, terms, why in [("m", [(1, "zz", 0)], "not evaluated"), ("m", [(1, "a", 1)], "segment 1"),
                               ("x", [(1, "a", 0)], "no column")]:
        with pytest.raises(MissingEvidence, match=why):
            ev.estimate(column, terms)


def test_set_level_contrasts_and_missing_embeddings(make_system, make_embeddings):
    rng = np.random.default_rng(3)
    systems = {"near": make_system({0: {"m": np.ones(30)}, 1: {"m": np.ones(30)}}, make_embeddings(rng, 30, 0.0)),
               "far": make_system({0: {"m": np.ones(30)}}, make_embeddings(rng, 30, 1.0, segments=(0,))),
               "short": make_system({0: {"m": np.ones(29)}}, make_embeddings(rng, 29, 0.0, segments=(0,)))}
    columns = set_level_columns({"FAD": FrechetDistance()}, ["FAD-toy"])
    ev = Evidence(systems, {"FAD-toy": rng.normal(size=(200, 6))}, columns, SETTINGS)
    assert ev.columns() == ["FAD-toy", "m"]
    c = ev.estimate("FAD-toy", [(1, "near", 0), (-1, "far", 0)])
    assert c.estimate < 0 and c.high < 0 and c.p < 1e-3 and c.test == "paired bootstrap"
    assert c.estimate == pytest.approx(ev.point("FAD-toy", "near", 0) - ev.point("FAD-toy", "far", 0))
    with pytest.raises(MissingEvidence, match="seg1"):
        ev.estimate("FAD-toy", [(1, "far", 1), (-1, "far", 0)])
    with pytest.raises(MissingEvidence, match="different numbers of examples"):
        ev.estimate("FAD-toy", [(1, "near", 0), (-1, "short", 0)])
    no_reference = Evidence(systems, {}, columns, SETTINGS)
    with pytest.raises(MissingEvidence, match="reference"):
        no_reference.estimate("FAD-toy", [(1, "near", 0)])


def test_set_level_column_names():
    names = [c.name for c in set_level_columns({"FAD": len, "KAD": len}, ["FAD-logmel", "crepe"])]
    assert names == ["FAD-logmel", "KAD-logmel", "FAD-crepe", "KAD-crepe"]


def test_reading_files(tmp_path):
    pd.DataFrame({"example": [0, 1], "segment": [0, 0], "inst_class": ["Bass", "Piano"],
                  "BA F1 (madmom)": [0.5, "nan"]}).to_csv(tmp_path / "s.examples.csv", index=False)
    np.savez(tmp_path / "s.npz", **{"E/seg0": np.zeros((4, 2), np.float32), "E/seg0/offsets": np.array([0, 2, 4])})
    system = load_system(tmp_path, tmp_path, "s")
    assert np.isnan(system.examples["BA F1 (madmom)"][1]) and system.embeddings["E/seg0"].shape == (4, 2)
    pd.DataFrame({"example": [0, 0], "segment": [0, 0], "inst_class": ["a", "a"]}).to_csv(tmp_path / "d.csv")
    with pytest.raises(LiveBandError, match="repeated"):
        read_examples(tmp_path / "d.csv")
    pd.DataFrame({"example": [0]}).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(LiveBandError, match="missing column"):
        read_examples(tmp_path / "m.csv")
    with pytest.raises(LiveBandError, match="not found"):
        load_system(tmp_path, tmp_path, "absent")
