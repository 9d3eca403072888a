import numpy as np
import pytest
import yaml

from liveband.reports.claims import (
    claims_caption,
    evaluate_claims,
    paper_cell,
    render_claims,
    verdict,
    write_claims,
)
from liveband.reports.claims_list import CLAIMS, Claim
from liveband.reports.evidence import BootstrapSettings, Evidence, set_level_columns
from liveband.stats.frechet import FrechetDistance
from liveband.stats.multiple import holm

BA = "BA F1 (madmom)"
SETTINGS = BootstrapSettings(n_boot_mean=300, n_boot_set=80)


def claim(id_, a, b, family="F", kind="better", role="beat", quantity="first"):
    return Claim(id_, family, f"{a} vs {b}", role, a, b, quantity, kind, "table1", "test")


@pytest.fixture
def evidence(make_system, make_embeddings):
    rng = np.random.default_rng(0)
    base = rng.uniform(0.3, 0.7, 40)
    systems = {name: make_system({0: {BA: values}}) for name, values in {
        "base": base, "win": base + 0.2 + rng.normal(0, 0.02, 40), "lose": base - 0.2 + rng.normal(0, 0.02, 40),
        "tie": base + rng.normal(0, 0.05, 40)}.items()}
    systems["near"] = make_system({0: {BA: base}}, make_embeddings(rng, 40, 0.0, segments=(0,)))
    systems["far"] = make_system({0: {BA: base}}, make_embeddings(rng, 40, 1.0, segments=(0,)))
    columns = set_level_columns({"FAD": FrechetDistance()}, ["FAD-toy"])
    return Evidence(systems, {"FAD-toy": rng.normal(size=(300, 6))}, columns, SETTINGS)


def by_claim(rows):
    return {r["claim"]: r for r in rows.to_dict("records")}


def test_win_loss_tie_and_missing(evidence):
    claims = [claim("win", "win", "base"), claim("lose", "lose", "base"), claim("tie", "tie", "base"),
              claim("missing", "absent", "base"), claim("fad", "near", "far", role="distance")]
    rows = by_claim(evaluate_claims(evidence, claims))
    assert rows["win"]["verdict"] == "reproduced" and rows["win"]["estimate"] == pytest.approx(0.2, abs=0.02)
    assert rows["lose"]["verdict"] == "contradicted"
    assert rows["tie"]["verdict"] == "inconclusive" and rows["tie"]["p"] > 0.05
    assert rows["missing"]["verdict"] == "inconclusive" and "absent was not evaluated" in rows["missing"]["reason"]
    # FAD: lower is better, so "near beats far" is reproduced by a negative difference
    assert rows["fad"]["column"] == "FAD-toy" and rows["fad"]["estimate"] < 0 and rows["fad"]["verdict"] == "reproduced"


def test_holm_runs_within_each_family_only(evidence):
    claims = [claim("w", "win", "base"), claim("l", "lose", "base"), claim("t", "tie", "base"),
              claim("alone", "win", "base", family="G")]
    rows = evaluate_claims(evidence, claims)
    f = rows[rows["family"] == "F"]
    np.testing.assert_allclose(f["p_holm"], holm(f["p"]))
    alone = rows[rows["claim"] == "alone"].iloc[0]
    assert alone["p_holm"] == pytest.approx(alone["p"])  # a family of one is not corrected
    in_family = f[f["claim"] == "w"].iloc[0]
    assert in_family["p"] == alone["p"] and in_family["p_holm"] == pytest.approx(3 * alone["p"])  # smallest of 3


def test_not_worse_claims(evidence):
    claims = [claim("tie", "tie", "base", kind="not_worse"), claim("lose", "lose", "base", kind="not_worse"),
              claim("win", "win", "base", kind="not_worse")]
    rows = by_claim(evaluate_claims(evidence, claims))
    assert rows["tie"]["verdict"] == "inconclusive" and "margin" in rows["tie"]["reason"]
    assert rows["lose"]["verdict"] == "contradicted" and rows["win"]["verdict"] == "reproduced"
    with_margin = by_claim(evaluate_claims(evidence, claims, margins={"beat": 0.1}))
    assert with_margin["tie"]["verdict"] == "reproduced"
    assert with_margin["lose"]["verdict"] == "contradicted"


def test_worse_and_direction_rules():
    assert verdict("worse", 0.3, 0.1, 0.5, 0.001, 0.05, lower_is_better=True)[0] == "reproduced"
    assert verdict("better", 0.3, 0.1, 0.5, 0.001, 0.05, lower_is_better=True)[0] == "contradicted"
    assert verdict("better", -0.3, -0.5, -0.1, 0.001, 0.05, lower_is_better=True)[0] == "reproduced"
    assert verdict("better", 0.3, 0.1, 0.5, 0.2, 0.05, lower_is_better=False)[0] == "inconclusive"
    assert verdict("better", 0.3, 0.1, 0.5, float("nan"), 0.05, lower_is_better=False) == ("inconclusive", "no test")


def test_failed_metric_makes_the_verdict_inconclusive(evidence):
    rows = by_claim(evaluate_claims(evidence, [claim("win", "win", "base"), claim("tie", "tie", "base")],
                                    metric_flags={BA: ["time shift 50 ms"]}))
    assert rows["win"]["verdict"] == "inconclusive (metric failed: time shift 50 ms; unflagged: reproduced)"
    assert rows["tie"]["verdict"] == "inconclusive (metric failed: time shift 50 ms)"
    assert rows["win"]["failed_checks"] == "time shift 50 ms"


def test_role_without_columns_is_inconclusive(evidence):
    rows = by_claim(evaluate_claims(evidence, [claim("adh", "win", "base", role="adherence")]))
    assert rows["adh"]["verdict"] == "inconclusive" and "no column" in rows["adh"]["reason"]


def test_scales_sit_side_by_side_and_files_are_written(evidence, tmp_path):
    claims = [claim("win", "win", "base"), claim("fad", "near", "far", role="distance")]
    rows = evaluate_claims({"default": evidence, "extended": evidence}, claims)
    table = render_claims(rows)
    assert len(table) == 2 and {"Verdict (default)", "Verdict (extended)", "Ours (default)"} <= set(table.columns)
    assert table["Ours (default)"][0].startswith("+0.2") and "[" in table["Ours (default)"][0]
    write_claims(rows, tmp_path / "claims", claims_caption(evidence))
    md = (tmp_path / "claims.md").read_text()
    assert md.startswith("Claims of the paper") and "| win" in md and "default: reproduced 2" in md
    assert (tmp_path / "claims.csv").read_text().count("\n") == 5  # header + 2 claims x 2 scales


def test_paper_cells_come_from_the_paper_tables():
    c = next(x for x in CLAIMS if x.a == "gan_tau01" and x.b == "smg_tau0" and x.quantity == "first")
    assert paper_cell(c, "FAD-logmel") == "VGGish 1.39 vs 2.81; CLAP 0.31 vs 0.30"
    assert paper_cell(c, "BA F1 (madmom)") == "0.64 vs 0.30"
    assert paper_cell(c, "COCOLA-local harmonic") == "66.30 vs 61.14"
    drift = claim("d", "smg_tau0", None, quantity="drift", kind="worse")
    assert paper_cell(drift, "COCOLA-local percussive") == "+0.03"
    sink = Claim("s", "T2", "", "beat", "gan_abl_sink", "gan_abl_nosink", "drift", "better", "table2", "")
    assert paper_cell(sink, "BA F1 (madmom)") == "+0.02 vs +0.01"
    assert paper_cell(claim("c", "gan_tau01", "codec", quantity="drift"), "BA F1 (madmom)") == "+0.03 vs -"


def test_claims_are_well_formed_and_name_evaluated_systems():
    from pathlib import Path

    params = yaml.safe_load((Path(__file__).resolve().parents[2] / "params.yaml").read_text())
    systems = set(params["evaluation"]["systems"])
    assert len({c.id for c in CLAIMS}) == len(CLAIMS)
    assert {c.a for c in CLAIMS} | {c.b for c in CLAIMS if c.b} <= systems
    assert {c.family for c in CLAIMS} == {"Table 1 first segment (6.3)", "Table 1 drift (6.3)",
                                          "Table 2 sink ablation (6.1)", "Table 3 gradient penalty (6.2)"}
    with pytest.raises(ValueError):
        claim("bad", "a", None, quantity="first")  # a first-segment claim needs a B
