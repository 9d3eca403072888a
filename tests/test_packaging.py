"""What a newcomer reads and installs is true: licence, citation, extras, version, README's API."""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

import liveband

ROOT = Path(__file__).resolve().parents[1]
ARXIV = "https://arxiv.org/abs/2606.03803"


def pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_license_is_the_mit_text_pyproject_declares():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 the liveband authors" in text
    assert pyproject()["project"]["license"] == {"text": "MIT"}


def test_citation_cites_the_paper_on_arxiv_at_this_version():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    paper = cff["preferred-citation"]
    assert cff["cff-version"] == "1.2.0" and cff["version"] == liveband.__version__
    assert paper["url"] == ARXIV and paper["title"].startswith("LiveBand: ") and paper["authors"]


def test_version_is_read_from_the_package():
    from setuptools.config.pyprojecttoml import read_configuration

    assert read_configuration(ROOT / "pyproject.toml")["project"]["version"] == liveband.__version__


def test_extras_name_packages_of_the_tested_set():
    extras = pyproject()["project"]["optional-dependencies"]
    assert set(extras) >= {"live", "pipeline", "eval"} and extras["live"] == ["sounddevice>=0.4"]
    pinned = {line.split("==")[0].lower() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    for name in ("pipeline", "eval"):
        for requirement in extras[name]:
            assert re.split(r"[<>=\[ ]", requirement)[0].lower() in pinned, requirement


def test_readme_cites_the_paper_not_a_local_path():
    readme = (ROOT / "README.md").read_text()
    assert "shared/paper" not in readme and ARXIV in readme


def test_readme_python_api_runs_as_written(tiny_bundle, tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "artifacts/gan/tau01").mkdir(parents=True)
    shutil.copy(tiny_bundle(1), tmp_path / "artifacts/gan/tau01/generator.pt")
    sf.write(tmp_path / "song.wav", 0.2 * np.random.default_rng(0).standard_normal(22050), 22050)
    exec(compile(code, "README.md", "exec"), {})
    written, sr = sf.read(tmp_path / "bass.wav")
    assert sr == 22050 and written.shape == (22050,)
    assert np.abs(written).max() == pytest.approx(10 ** (-1 / 20), abs=2 / 32768)  # normalize_dbfs=-1
