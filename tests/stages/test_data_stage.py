"""The data stage end to end: a real-layout tree is indexed; a bad one leaves nothing behind."""

import json
import shutil
from pathlib import Path

import pandas as pd
import yaml

from liveband.stages import data as data_stage

REPO = Path(__file__).resolve().parents[2]


def params_with(tmp_path: Path, **data_updates) -> Path:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"].update(data_updates)
    shutil.copytree(REPO / "profiles", tmp_path / "profiles")
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def run(tmp_path, params):
    return data_stage.main(["--params", str(params), "--out", str(tmp_path / "artifacts"),
                            "--results", str(tmp_path / "results")])


def test_real_tree_is_indexed(tmp_path, slakh_tree):
    assert run(tmp_path, params_with(tmp_path, slakh_root=str(slakh_tree))) == 0
    index = pd.read_csv(tmp_path / "artifacts" / "index.csv")
    assert len(index) == 9
    summary = json.loads((tmp_path / "results" / "data.json").read_text())
    assert summary["source"] == "slakh2100" and summary["tracks"] == {"train": 1, "validation": 1, "test": 1}
    assert json.loads((tmp_path / "artifacts" / "beats.json").read_text())["available"] is False


def test_bad_tree_fails_cleanly(tmp_path, slakh_tree, capsys):
    (slakh_tree / "train" / "Track00001" / "stems" / "S00.flac").unlink()
    assert run(tmp_path, params_with(tmp_path, slakh_root=str(slakh_tree))) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: ") and "S00.flac: missing stem" in err
    assert not (tmp_path / "artifacts" / "index.csv").exists()
    assert not (tmp_path / "results" / "data.json").exists()


def test_bad_param_fails_cleanly(tmp_path, capsys):
    assert run(tmp_path, params_with(tmp_path, slakh_root=str(tmp_path / "nowhere"))) == 2
    assert "data.slakh_root:" in capsys.readouterr().err
