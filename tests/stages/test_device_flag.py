"""Every stage takes --device (a machine setting): an impossible device stops it before any work,
with one line."""

import importlib
import pkgutil

import pytest
import torch

import liveband.stages

STAGES = sorted(m.name for m in pkgutil.iter_modules(liveband.stages.__path__) if m.name != "runner")


@pytest.mark.parametrize("name", STAGES)
def test_every_stage_reads_the_device_flag_before_any_work(name, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.chdir(tmp_path)
    stage = importlib.import_module(f"liveband.stages.{name}")
    params = __import__("pathlib").Path(liveband.stages.__file__).resolve().parents[3] / "params.yaml"
    code = stage.main(["--params", str(params), "--profile", "ci", "--device", "cuda", "--variant", "tau01"]
                      if name in ("train_gan", "train_smg", "evaluate")
                      else ["--params", str(params), "--profile", "ci", "--device", "cuda"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1] == "error: --device: 'cuda' asked for, but this machine has no CUDA GPU"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]  # the log only

