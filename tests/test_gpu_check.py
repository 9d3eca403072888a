"""scripts/gpu_check.sh: no GPU is exit 2 with one line; every check runs (on the CPU, ci sizes; the
data-parallel check on 2 gloo ranks) and ends in a summary; a failing check makes the exit code 1."""

import re
from pathlib import Path

import pytest
import torch

from liveband import gpu_check

PARAMS = str(Path(__file__).resolve().parents[1] / "params.yaml")


def test_without_a_gpu_it_says_so_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main(["--params", PARAMS]) == 2
    assert capsys.readouterr().err.strip() == ("error: no CUDA GPU visible to torch "
                                                "(torch.cuda.is_available() is False)")


@pytest.mark.slow
def test_every_check_runs_on_the_cpu_at_ci_sizes_and_a_failure_exits_1(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    assert gpu_check.main(["--params", PARAMS, "--profile", "ci", "--device", "cpu", "--steps", "4",
                           "--ranks", "2"]) == 0
    out = capsys.readouterr().out
    summary = out[out.index("\nSummary\n"):]
    assert summary.count("  PASS  ") == 7 and "7 passed, 0 failed" in summary
    assert re.search(r"GAN data parallel on 2 ranks +PASS  2 ranks \(gloo\), global batch 4", summary)
    assert "identical on every rank" in summary
    monkeypatch.setattr(gpu_check, "TOLERANCE", {"float32": -1.0, "bfloat16": -1.0})  # nothing can pass
    monkeypatch.setattr(gpu_check.Checks, "latency_rows", lambda self: "skipped")
    monkeypatch.setattr(gpu_check.Checks, "accompany", lambda self: "skipped")
    assert gpu_check.main(["--params", PARAMS, "--profile", "ci", "--device", "cpu", "--steps", "2"]) == 1
    assert "[FAIL] generator: parallel == streaming: LiveBandError: relative RMS" in capsys.readouterr().out
