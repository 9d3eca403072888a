"""``record-lock``: what Snakemake built is recorded in dvc.lock, and DVC then calls it up to date."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from liveband.pipeline import record_lock

DVC = Path(sys.executable).with_name("dvc")
DVC_YAML = {"stages": {
    "make_a": {"cmd": "cp in.txt a.txt", "deps": ["in.txt"], "params": ["size"], "outs": [{"a.txt": {"cache": False}}]},
    "make_b": {"cmd": "cp a.txt b.txt", "deps": ["a.txt"], "outs": [{"b.txt": {"cache": False}}]},
    "make_c": {"cmd": "cp in.txt c.txt", "deps": ["in.txt"], "outs": [{"c.txt": {"cache": False}}]},
}}


def dvc(work: Path, *args: str) -> str:
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    return subprocess.run([str(DVC), *args], cwd=work, env=env, check=True, capture_output=True, text=True).stdout


def test_built_stages_are_recorded_and_up_to_date_the_rest_left_out(tmp_path):
    dvc(tmp_path, "init", "--no-scm", "-q")
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML))
    (tmp_path / "params.yaml").write_text("size: 3\n")
    (tmp_path / "in.txt").write_text("x\n")
    for name in ("a.txt", "b.txt"):          # what a Snakemake run built; c.txt was not
        (tmp_path / name).write_text("x\n")
    assert sorted(record_lock(tmp_path)) == ["make_a", "make_b"]
    lock = yaml.safe_load((tmp_path / "dvc.lock").read_text())["stages"]
    assert sorted(lock) == ["make_a", "make_b"] and lock["make_a"]["params"]["params.yaml"] == {"size": 3}
    assert set(json.loads(dvc(tmp_path, "status", "--json"))) == {"make_c"}
    (tmp_path / "params.yaml").write_text("size: 4\n")   # an edit makes the stage that reads it stale again
    assert set(json.loads(dvc(tmp_path, "status", "--json"))) == {"make_a", "make_c"}


def test_outside_a_dvc_repository_nothing_is_recorded(tmp_path, capsys):
    assert record_lock(tmp_path) == []
    assert "dvc.lock not recorded: no DVC repository here" in capsys.readouterr().err
    assert not (tmp_path / "dvc.lock").exists()
