"""The whole DAG on the `ci` profile, in a scratch copy of the workflow: every table file is
produced, and every cell is a finite number, 'first / drift' numbers, '-' or an explicit
'not run' / 'unavailable' whose reason the caption gives."""

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NUMBER = r"[+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?"
ESTIMATE = rf"{NUMBER}(?: \[{NUMBER}, {NUMBER}\])?"            # value [95% CI]
SPREAD = rf"{NUMBER}-{NUMBER} \(\d+ seeds?\)"                  # min-max over training seeds
PART = rf"(?:{ESTIMATE}|{SPREAD}|-)"
SENTINELS = ("results/table1.md", "artifacts/gan/tau01/generator.pt", "listening/key.csv")
CELL = re.compile(rf"^({PART}(?: / {PART})?|not run)$")


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("pipeline")
    for name in ("Snakefile", "params.yaml", "dvc.yaml"):
        shutil.copy(REPO / name, work / name)
    for name in ("workflow", "profiles"):
        shutil.copytree(REPO / name, work / name)
    (work / "src").symlink_to(REPO / "src")
    for path in SENTINELS:  # the default profile's outputs: a ci run must leave them alone
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(f"sentinel {path}\n")
        os.utime(work / path, (1e9, 1e9))
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", XDG_CACHE_HOME=str(work / ".cache"),
               OMP_NUM_THREADS="1")
    done = subprocess.run([str(BIN / "snakemake"), "all", "extended", "--cores", "2", "--config", "profile=ci"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return work / "runs" / "ci"  # the ci profile's files (liveband.pipeline.run_root)


@pytest.mark.slow
def test_a_ci_run_leaves_the_default_outputs_alone(ci_run):
    work = ci_run.parents[1]
    for path in SENTINELS:
        assert (work / path).read_text() == f"sentinel {path}\n" and (work / path).stat().st_mtime == 1e9
        assert (ci_run / path).is_file()  # the ci run wrote its own copy
    assert not (work / "dvc.lock").exists()  # dvc.lock describes the default profile only


@pytest.mark.slow
@pytest.mark.parametrize("table", ["table1", "table2", "table3", "table4"])
def test_tables_are_complete(ci_run, table):
    for ext in ("csv", "md", "tex"):
        assert (ci_run / "results" / f"{table}.{ext}").stat().st_size > 0
    df = pd.read_csv(ci_run / "results" / f"{table}.csv", dtype=str, keep_default_na=False)
    value_columns = [c for c in df.columns if c not in ("Model", "tau [s]")]
    assert any("(ours)" in c for c in value_columns) and any("(paper)" in c for c in value_columns)
    for column in value_columns:
        for value in df[column]:
            assert CELL.match(value.strip()), f"{table} {column}: {value!r}"
            for number in re.findall(NUMBER, value):
                assert math.isfinite(float(number))


@pytest.mark.slow
def test_unavailable_backends_are_explained(ci_run):
    caption = (ci_run / "results" / "table1.md").read_text().splitlines()[0]
    assert "FAD VGGish (ours): unavailable: no VGGish checkpoint" in caption
    assert "CLAP-conditioned row is not run" in caption


@pytest.mark.slow
def test_every_stage_report_exists(ci_run):
    results = ci_run / "results"
    for name in ("data.json", "autoencoder.json", "rvq.json", "cocola_local.json", "beat_tracker.json",
                 "README.md", "figures/drift.png", "figures/autoencoder_curves.png", "figures/gan_tau01.png",
                 "claims.md", "claims.csv", "environment.json",
                 "metric_validation.json", "metric_validation.md", "figures/metric_validation.png"):
        assert (results / name).exists(), name
    evals = {p.stem: json.loads(p.read_text()) for p in (results / "eval").glob("*.json")}
    assert evals["gan_bidirectional"]["drift"] is None and evals["gan_tau01"]["drift"] is not None
    # `drift: false` rows (Table 3, the mismatched reference) are generated and scored on the first segment only
    assert evals["gan_abl_gp_small"]["drift"] is None and evals["gan_abl_gp_small"]["streaming"] is True
    assert set(pd.read_csv(results / "eval" / "mismatched.examples.csv").segment) == {0}
    assert json.loads((results / "beat_tracker.json").read_text())["available"] is True


@pytest.mark.slow
def test_cells_carry_intervals_and_claims_carry_verdicts(ci_run):
    results = ci_run / "results"
    table = pd.read_csv(results / "table1.csv", dtype=str, keep_default_na=False)
    gan = table[table.Model == "LiveBand"].iloc[1]          # tau 0.1
    assert re.match(rf"^{ESTIMATE} / {ESTIMATE}$", gan["BA F1 (madmom) (ours)"]) and "[" in gan["BA F1 (madmom) (ours)"]
    assert table.Model.str.contains("spread over training seeds").sum() == 2   # LiveBand tau 0.1 and SMG tau 0
    claims = pd.read_csv(results / "claims.csv")
    assert set(claims.verdict.str.split(" ").str[0]) <= {"reproduced", "contradicted", "inconclusive"}
    assert len(claims) > 40 and claims.family.nunique() == 4
    per_example = pd.read_csv(results / "eval" / "gan_tau01.examples.csv")
    assert set(per_example.segment) == {0, 1} and per_example.example.nunique() >= 4
    env = json.loads((results / "environment.json").read_text())
    assert env["tables"]["torch"] and env["stages"]["train_gan-tau01"]["cpu"]


@pytest.mark.slow
def test_listening_kit_and_table4_without_sessions(ci_run):
    kit = ci_run / "listening" / "kit"
    config = json.loads((kit / "config.json").read_text())
    assert set(json.loads((kit / "manifest.json").read_text())["files"]) >= {"config.json"}
    assert (ci_run / "listening" / "key.csv").exists() and not (kit / "key.csv").exists()
    assert "number of sessions: 0" in (ci_run / "results" / "table4.md").read_text()
    listening = json.loads((ci_run / "results" / "listening.json").read_text())
    assert listening["n_sessions"] == 0 and listening["kit_id"] == config["kit_id"]
    assert listening["power_simulation"]["label"].startswith("SIMULATION")
    assert (ci_run / "results" / "figures" / "listening.png").exists()


@pytest.mark.slow
def test_the_extended_scale_sits_beside_the_default(ci_run):
    ext = ci_run / "results" / "extended"
    claims = pd.read_csv(ext / "claims.csv")
    by_scale = {s: set(zip(g.claim, g.column, strict=True)) for s, g in claims.groupby("scale")}
    assert set(by_scale) == {"default", "extended"} and by_scale["default"] == by_scale["extended"]
    assert len(by_scale["default"]) > 5
    assert set(claims.a) | set(claims.b) <= {"gan_tau01", "smg_tau0", "ground_truth", "codec", "mismatched", "0"}
    tables = pd.read_csv(ci_run / "results" / "claims.csv")  # the default rows are those of results/claims.md
    same = claims[claims.scale == "default"].merge(tables, on=["claim", "column"], suffixes=("", "_tables"))
    assert len(same) == len(by_scale["default"])
    assert np.allclose(same.estimate, same.estimate_tables, equal_nan=True)
    assert (same.verdict == same.verdict_tables).all()
    headline = pd.read_csv(ext / "headline.csv")
    assert list(headline.Scale) == ["default", "extended"] * 2
    assert (headline.Steps.to_numpy()[1::2] > headline.Steps.to_numpy()[::2]).all()
    assert (ext / "figures" / "steps.png").stat().st_size > 0


@pytest.mark.slow
def test_the_companion_page_opens_in_chromium(ci_run, tmp_path):
    from companion_page_checks import CHROMEDRIVER, check_page, open_browser

    results = ci_run / "results"
    selection = pd.read_csv(results / "companion" / "selection.csv")
    assert len(selection) == 4 and (results / "index.html").stat().st_size > 0  # ci: the whole test list
    if not CHROMEDRIVER.exists():
        pytest.skip(f"{CHROMEDRIVER} is absent (Debian: apt-get install chromium chromium-driver)")
    driver = open_browser(tmp_path / "chromium-profile")
    try:
        shots = Path(os.environ.get("LIVEBAND_SCREENSHOT_DIR") or tmp_path)
        assert check_page(driver, results, shots / "companion-page-ci.png", min_seconds=9.0) == 4 * (1 + 2 * 7)
    finally:
        driver.quit()
