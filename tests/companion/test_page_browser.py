"""Stage `companion` end to end on a constructed ci-profile run (tiny untrained models), then the
page in a real headless Chromium from file:// (tests/companion_page_checks.py: no console error,
every <audio> reaches HAVE_METADATA, every <img> decodes, the claims table shows exactly the rows
and verdicts of results/claims.md); only relative links; a screenshot is saved
($LIVEBAND_SCREENSHOT_DIR or tmp).

The browser part needs /usr/bin/chromedriver (Debian: chromium chromium-driver) and is skipped
only when it is absent.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest
import soundfile as sf

from companion_page_checks import CHROMEDRIVER, check_page, open_browser
from liveband.companion import clips
from liveband.companion.systems import headline_systems
from liveband.config import load_params
from liveband.stages import companion

from ..conftest import REPO

pytestmark = pytest.mark.slow


def run_stage(run: Path, monkeypatch) -> int:
    monkeypatch.chdir(run)
    return companion.main(["--profile", "ci", "--params", str(REPO / "params.yaml"), "--device", "cpu"])


def test_stage_writes_page_audio_and_selection(companion_run, monkeypatch):
    assert run_stage(companion_run, monkeypatch) == 0
    results = companion_run / "results"
    page = (results / "index.html").read_text()
    selection = pd.read_csv(results / "companion" / "selection.csv")
    assert sorted(selection.example) == [0, 1, 2, 3]           # ci: the whole (short) list
    assert set(selection.drums_in_mix) == {True, False}
    systems = list(headline_systems(load_params(str(REPO / "params.yaml"), "ci").evaluation))
    assert systems == ["smg_tau0", "smg_tau1", "gan_tau0", "gan_tau01", "gan_tau1", "gan_bidirectional"]
    for ex in selection.example:
        folder = results / "companion" / f"ex{ex:04d}"
        names = {p.name for p in folder.iterdir()}
        expected = {"mix.ogg", "real.ogg", "real_mix.ogg"} | {f"{s}{x}.ogg" for s in systems for x in ("", "_mix")}
        assert expected | {n.replace(".ogg", ".png") for n in expected} == names
        info = sf.info(str(folder / "gan_tau01.ogg"))
        assert (info.format, info.subtype, info.channels) == ("OGG", "VORBIS", 1)
        assert abs(info.duration - 9.02) < 0.05                  # the ci evaluation window
    # generated versions differ from the real stem and from each other (not copies)
    a, _ = sf.read(str(results / "companion/ex0000/gan_tau0.ogg"))
    b, _ = sf.read(str(results / "companion/ex0000/real.ogg"))
    c, _ = sf.read(str(results / "companion/ex0000/smg_tau0.ogg"))
    assert abs(a - b).max() > 1e-3 and abs(a - c).max() > 1e-3
    # every link and source is relative and present
    refs = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert refs and not [r for r in refs if re.match(r"[a-z]+:", r) and not r.startswith("data:")]
    local = [r for r in refs if not r.startswith("data:") and not r.startswith("../")]
    assert [r for r in local if not (results / r).exists()] == []
    assert page.index('id="claims"') < page.index('id="table1"') < page.index('id="examples"')


def test_budget_exceeded_is_a_one_line_error(companion_run, monkeypatch, capsys):
    monkeypatch.setattr(clips, "BUDGET_MB", 0.01)
    assert run_stage(companion_run, monkeypatch) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: results/companion:") and "budget" in err
    assert not (companion_run / "results/index.html").exists()
    assert not (companion_run / "results/companion").exists()


def test_missing_scores_is_a_one_line_error(companion_run, monkeypatch, capsys):
    (companion_run / "results/eval/gan_tau1.examples.csv").unlink()
    assert run_stage(companion_run, monkeypatch) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: results/eval/gan_tau1.examples.csv: missing (stage evaluate writes it)")


def test_page_in_chromium(companion_run, monkeypatch, tmp_path):
    if not CHROMEDRIVER.exists():
        pytest.skip(f"{CHROMEDRIVER} is absent (Debian: apt-get install chromium chromium-driver)")
    assert run_stage(companion_run, monkeypatch) == 0
    results = companion_run / "results"
    shots = Path(os.environ.get("LIVEBAND_SCREENSHOT_DIR") or tmp_path)
    driver = open_browser(tmp_path / "chromium-profile")
    try:
        n_audio = check_page(driver, results, shots / "companion-page.png", min_seconds=9.0)
        assert n_audio == 4 * (1 + 2 * 7)  # mix + (real + 6 systems) x (alone, over the mix)
        assert driver.execute_script("return document.querySelectorAll('#claims td.verdict').length") == 3
        assert len(driver.execute_script("return document.querySelectorAll('img')")) == n_audio + 1
    finally:
        driver.quit()
