"""metric_validation: the checks fail for metrics blind to a degradation and pass for toy metrics
that see it, through the stage's own functions (toy backends stand in for madmom/COCOLA/FAD)."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from liveband.evaluation.metric_checks import FAIL, PASS, failed_checks
from liveband.evaluation.scoring import SegmentScores
from liveband.evaluation.test_set import EvalExample
from liveband.metrics.fad import Embedder
from liveband.stages import metric_validation as stage

SR = 16_000
PARAMS = SimpleNamespace(audio=SimpleNamespace(sample_rate=SR),
                         metric_validation=SimpleNamespace(shifts_seconds=(0.25,), alpha=0.05, n_bootstrap=200, seed=0))


def _envelope(audio) -> torch.Tensor:
    """10 ms frame energies: the toy front end standing in for COCOLA's chunk features."""
    x = np.asarray(audio, dtype=np.float64)
    return torch.from_numpy(np.square(x[: len(x) // 160 * 160]).reshape(-1, 160).mean(axis=1))[None]


class OnsetTracker:  # "beats": frames whose energy jumps above the clip's mean
    name = "toy"

    def track_many(self, clips, sr):
        out = []
        for clip in clips:
            env = _envelope(clip)[0].numpy()
            rising = (env[1:] > env.mean()) & (env[:-1] <= env.mean())
            out.append((np.flatnonzero(rising) + 1) * 0.01)
        return out


class AlignmentScorer:  # high when the stem's envelope lines up with the mix's
    name = "Toy"

    def score_features(self, mix, stem):
        return {"full": float(torch.corrcoef(torch.cat([mix, stem]))[0, 1])}


class ConstantScorer:
    name = "Toy"

    def score_features(self, mix, stem):
        return {"full": 1.0}


def _songs(n: int, seconds: float = 3.0):
    """Click songs at different tempi: the mix is clicks + a tone, the target stem the clicks."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    mixes, targets = [], []
    for _ in range(n):
        period = rng.uniform(0.35, 0.6)
        clicks = ((t % period) < 0.03) * rng.standard_normal(len(t)) * 0.5
        targets.append(clicks[None].astype(np.float32))
        mixes.append((clicks + 0.05 * np.sin(2 * np.pi * 220 * t))[None].astype(np.float32))
    return mixes, targets


def _examples(n: int):
    return [EvalExample(i, f"Track{i:05d}", "root", "S00", "Drums" if i % 2 else "Bass", 0, ("S01",),
                        f"Track{(i + 1) % n:05d}", "S00", True, (i + 1) % n) for i in range(n)]


@pytest.mark.parametrize("scorer, expected", [(AlignmentScorer(), PASS), (ConstantScorer(), FAIL)])
def test_timing_checks_fail_a_blind_adherence_metric_and_pass_a_sensitive_one(monkeypatch, scorer, expected):
    monkeypatch.setattr(stage, "chunk_features", lambda audio, sr: _envelope(audio))
    monkeypatch.setattr(stage.backends, "beat_tracker", lambda params: OnsetTracker())
    monkeypatch.setattr(stage.backends, "adherence_scorer", lambda params: scorer)
    mixes, targets = _songs(10)
    a, b = SR // 2, 3 * SR
    mixes16 = [stage.front_end(m[:, a:b], SR) for m in mixes]
    checks, values, notes = stage.timing_checks(_examples(10), mixes16, targets, a, b, PARAMS,
                                                np.random.default_rng(0))
    by_key = {(c.metric, c.check): c.status for c in checks}
    assert by_key[("Toy full", "shift 250 ms")] == expected
    assert by_key[("Toy full", stage.OTHER_SONG)] == expected
    assert by_key[("BA F1 (toy)", "shift 250 ms")] == PASS  # the toy tracker does see a 250 ms shift
    # The keys are those the evaluation reports for the same backends.
    summary = SegmentScores(beat_f1=[1.0], adherence={"full": [1.0]}).summary({}, scorer.name, "toy")
    assert set(values) == set(summary) and not notes


def test_same_class_partner_is_from_another_track_with_a_note_when_the_class_is_alone():
    examples = _examples(4) + [EvalExample(4, "Track00009", "root", "S00", "Organ", 0, ("S01",), "Track00000", "S00", False, 0)]
    partners, notes = stage.same_class_partners(examples, np.random.default_rng(0))
    for ex, j in zip(examples[:4], partners[:4]):
        assert examples[j].inst_class == ex.inst_class and examples[j].track != ex.track
    assert len(notes) == 1 and "Track00009 (Organ)" in notes[0]


class BandEnergies(Embedder):  # log energies of 8 spectral bands per 64 ms frame
    name = "FAD-toy"
    sample_rate = SR

    def _embed(self, audio):
        frames = audio[: len(audio) // 1024 * 1024].reshape(-1, 1024)
        spectrum = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        return np.log(spectrum[:, 1:513].reshape(len(frames), 8, 64).sum(axis=2) + 1e-8)


class IgnoresInput(Embedder):
    name = "FAD-blind"
    sample_rate = SR

    def _embed(self, audio):
        return np.random.default_rng(0).standard_normal((20, 8))


def test_set_level_checks_fail_a_blind_embedder_and_pass_a_sensitive_one():
    rng = np.random.default_rng(1)
    t = np.arange(SR) / SR
    tones = [np.sin(2 * np.pi * rng.uniform(200, 3000) * t)[None].astype(np.float32) for _ in range(18)]
    conditions = {stage.CLEAN: tones[:12], "noise 10 dB SNR": [stage.white_noise(x, 10.0, rng) for x in tones[:12]]}
    conditions16 = {c: [x[0] for x in xs] for c, xs in conditions.items()}
    embedders = [BandEnergies(), IgnoresInput()]
    reference = {e.name: np.concatenate([e.embed(x[0], SR) for x in tones[12:]]) for e in embedders}
    results, values, seconds = stage.set_level_checks(embedders, reference, conditions16, PARAMS)
    assert {r.metric: r.status for r in results} == {"FAD-toy": PASS, "KAD-toy": PASS,
                                                     "FAD-blind": FAIL, "KAD-blind": FAIL}
    assert values["KAD-toy"]["noise 10 dB SNR"]["value"] > values["KAD-toy"][stage.CLEAN]["value"]
    assert set(seconds) == {"FAD-toy", "FAD-blind"}


def test_outputs_are_written_and_read_back(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clean, falls = np.zeros(8), -np.arange(1, 9.0)
    checks = stage.paired_checks("A", clean, {"x": falls, "y": clean}, "fall")
    result = {"profile": "ci", "n_examples": 8, "segment_seconds": 4.0, "alpha": 0.05, "n_bootstrap": 10, "seed": 0,
              "rule": "rule.", "notes": ["a note"], "seconds": {}, "checks": stage.as_dicts(checks),
              "values": {"A": {c: {"value": float(np.mean(v)), "half_width": 0.1}
                               for c, v in {"clean": clean, "x": falls, "y": clean}.items()}}}
    stage.write_outputs(result)
    results = tmp_path / "results"
    assert failed_checks(results / "metric_validation.json") == {"A": ["y"]}
    assert (results / "figures" / "metric_validation.png").stat().st_size > 0
    md = (results / "metric_validation.md").read_text()
    assert md.startswith("Metric validation: profile 'ci'") and "Note: a note." in md and "| FAIL" in md
    assert (results / "metric_validation.csv").read_text().count("\n") == 3
