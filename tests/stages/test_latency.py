"""Latency stage: what is timed is the live path; numbers are finite; the table has the paper's rows.

No timing assertions: the machine is shared and timings are whatever they are.
"""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from liveband.builders import load_bundle
from liveband.errors import LiveBandError
from liveband.models.generator import GeneratorStream
from liveband.stages import latency as latency_stage
from liveband.streaming import latency
from liveband.streaming.accompanist import Accompanist

REPO = Path(__file__).resolve().parents[2]
TINY_AE = dict(sample_rate=22050, channels=1, hop=2048, latent_dim=8, encoder_frame_width=16,
               encoder_latent_width=16, decoder_latent_width=16, decoder_frame_width=16,
               encoder_frame_depth=1, encoder_latent_depth=1, decoder_latent_depth=1, decoder_frame_depth=1)
TINY_G = dict(noise_dim=4, d_model=32, n_layers=2, n_heads=2, context_frames=16)


def tiny_settings(**overrides) -> latency.LatencySettings:
    base = dict(steps=6, warmup=2, kv_steps=3, compile=False, dtypes=("float32", "bfloat16"),
                paper_autoencoder=TINY_AE, paper_generator=TINY_G)
    return latency.LatencySettings(**{**base, **overrides})


def test_timed_pipeline_is_the_accompanist_path(tiny_bundle):
    bundle = load_bundle(tiny_bundle(1))
    mix = 0.1 * torch.randn(1, 1, 2048 * 8, generator=torch.Generator().manual_seed(0))
    acc = Accompanist(load_bundle(tiny_bundle(1)), instrument=4, seed=3)
    pipeline = latency.TimedPipeline(bundle, instrument=4, seed=3)
    for k in range(8):
        chunk = mix[..., k * 2048:(k + 1) * 2048]
        block, *seconds = pipeline.step(chunk)
        assert torch.allclose(block, acc.push(chunk), atol=1e-6) and all(s >= 0 for s in seconds)
    assert block.abs().max() > 1e-3


def test_measurements_on_tiny_models_are_finite(tiny_bundle):
    settings = tiny_settings()
    rows = latency.measure_model("default", "trained", load_bundle(tiny_bundle(1)), settings, torch.device("cpu"))
    assert [(r["generator_dtype"], r["mode"]) for r in rows] == [("float32", "eager"), ("bfloat16", "eager")]
    for r in rows:
        for key in ("encoder_ms", "generator_ms", "decoder_ms", "mean_ms", "median_ms", "p95_ms", "max_ms", "rtf"):
            assert math.isfinite(r[key]) and r[key] > 0, key
        assert r["max_ms"] >= r["p95_ms"] >= r["median_ms"] > 0 and r["steps"] == 6
        assert r["kv_cache"]["window_frames"] == 16 and r["kv_cache"]["speedup"] > 0
        assert r["_total"].shape == (6,)


def test_compiled_rows_run_or_say_why_not(tiny_bundle, monkeypatch):
    bundle = load_bundle(tiny_bundle(1))
    times = latency.measure_steps(bundle, 2, steps=3, warmup=1, compile=True)
    assert times.error is None and np.isfinite(times.total).all()  # CPU compile works here

    def broken_compile(self, **options):
        def fail(inputs):
            raise RuntimeError("no C++ compiler\nfound")
        self._run_frame = fail
        return self

    monkeypatch.setattr(GeneratorStream, "compile", broken_compile)
    failed = latency.measure_steps(bundle, 2, steps=3, warmup=1, compile=True)
    assert failed.error == "unavailable: RuntimeError: no C++ compiler found"
    assert failed.summary(0.0929) == {"error": failed.error}
    with pytest.raises(RuntimeError):  # eager failures are bugs, not "unavailable"
        monkeypatch.setattr(GeneratorStream, "step", lambda *a: (_ for _ in ()).throw(RuntimeError("bug")))
        latency.measure_steps(bundle, 2, steps=3, warmup=1, compile=False)


def test_table_has_the_paper_rows_beside_ours(tiny_bundle):
    rows = latency.measure_model("paper size", "random (timing only)",
                                 latency.random_bundle(TINY_AE, TINY_G), tiny_settings(dtypes=("float32",)),
                                 torch.device("cpu"))
    rows.append({"model": "default", "weights": "trained", "mode": "compile", "generator_dtype": "float32",
                 "error": "unavailable: RuntimeError: x"})
    env = latency.environment(torch.device("cpu"))
    df = latency.table(rows, env)
    paper = df[df["Source"] == "paper"]
    assert paper[["Gen.", "Dec.", "Mean", "Median", "RTF"]].values.tolist() == [
        [29.4, 54.1, 83.5, 80.7, 1.1], [25.5, 17.9, 43.6, 29.8, 2.1]]
    assert set(paper["Hardware"]) == {"RTX 3090"} and set(paper["dtype"]) == {"bfloat16"}
    ours = df[df["Source"] == "ours"]
    assert ours["Weights"].tolist() == ["random (timing only)", "trained"]
    assert ours.iloc[1]["Enc."] == "not run" and ours.iloc[0]["KV-cache speedup [x]"] > 0
    text = latency.caption(env, 92.9, rows)
    assert str(env["threads"]) in ours["Hardware"].iloc[0] and env["torch"] in text
    assert "Not run: default float32 compile: unavailable: RuntimeError: x." in text
    cells = df[["Enc.", "Gen.", "Dec.", "Mean", "Median", "p95", "Max", "RTF", "KV-cache speedup [x]"]]
    assert all(isinstance(v, float) or v in ("-", "not run") for v in cells.values.ravel())


def test_stage_writes_table_json_and_figure(tiny_bundle, tmp_path, monkeypatch):
    monkeypatch.setattr(latency.LatencySettings, "from_params",
                        classmethod(lambda cls, params: tiny_settings(dtypes=("float32",))))
    results = tmp_path / "results"
    code = latency_stage.main(["--params", str(REPO / "params.yaml"), "--results", str(results),
                               "--checkpoint", str(tiny_bundle(1)), "--device", "cpu"])
    assert code == 0
    for name in ("table5.csv", "table5.md", "table5.tex", "latency.json", "figures/latency.png"):
        assert (results / name).stat().st_size > 0, name
    df = pd.read_csv(results / "table5.csv")
    assert len(df) == 2 + 2 and (df["Source"] == "paper").sum() == 2
    report = json.loads((results / "latency.json").read_text())
    assert report["environment"]["device"] == "cpu" and len(report["rows"]) == 2
    assert report["rows"][1]["weights"] == "random (timing only)" and "Table 5" in (results / "table5.md").read_text()


def test_stage_fails_in_one_line_without_the_checkpoint(tmp_path, capsys):
    code = latency_stage.main(["--params", str(REPO / "params.yaml"), "--results", str(tmp_path),
                               "--checkpoint", str(tmp_path / "none.pt")])
    assert code == 2 and "none.pt: checkpoint not found" in capsys.readouterr().err


def test_settings_from_params_section():
    assert latency.LatencySettings.from_params(object()) == latency.LatencySettings()
    params = type("P", (), {"latency": {"steps": 50, "dtypes": ["float32"]}})()
    settings = latency.LatencySettings.from_params(params)
    assert settings.steps == 50 and settings.dtypes == ("float32",) and settings.warmup == 30
    section = dataclasses.make_dataclass("L", [("steps", int)])(7)
    assert latency.LatencySettings.from_params(type("P", (), {"latency": section})()).steps == 7
    with pytest.raises(LiveBandError, match="latency.stepz"):
        latency.LatencySettings.from_params(type("P", (), {"latency": {"stepz": 1}})())
    with pytest.raises(LiveBandError, match="latency.dtypes"):
        latency.LatencySettings.from_params(type("P", (), {"latency": {"dtypes": ["int8"]}})())


def test_compile_dtypes_choose_which_dtypes_are_also_timed_compiled():
    both = latency.LatencySettings(dtypes=("float32", "bfloat16"))
    assert both.modes("float32") == both.modes("bfloat16") == ("eager", "compile")
    paper_only = latency.LatencySettings.from_params(
        type("P", (), {"latency": {"dtypes": ["float32", "bfloat16"], "compile_dtypes": ["bfloat16"]}})())
    assert paper_only.compile_dtypes == ("bfloat16",)
    assert paper_only.modes("float32") == ("eager",) and paper_only.modes("bfloat16") == ("eager", "compile")
    assert latency.LatencySettings(compile=False, compile_dtypes=("bfloat16",)).modes("bfloat16") == ("eager",)
    float32_only = latency.LatencySettings(dtypes=("float32",), compile_dtypes=("bfloat16",))
    assert float32_only.modes("float32") == ("eager",)   # a profile timing float32 only compiles nothing
    with pytest.raises(LiveBandError, match="latency.compile_dtypes: 'int8' is not float32, bfloat16 or float16"):
        latency.LatencySettings.from_params(type("P", (), {"latency": {"compile_dtypes": ["int8"]}})())
