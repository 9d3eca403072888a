"""Stage `metric_validation`: does each offline metric order real test stems above controlled
degradations of them, as a listener would?

On the evaluation's test list (its first segment: ``evaluation.segment_seconds`` from
``evaluation.lead_frames`` in, as every system is scored):

- adherence (every COCOLA mode) and BA F1 must FALL when the true stem is played late by each
  of ``metric_validation.shifts_seconds``, and when it is replaced by a same-class stem of
  another song;
- FAD and KAD (every backend of ``metrics.fad.embedders``, against the evaluation's FAD
  reference) must RISE with white noise at each of ``snrs_db``, a ``lowpass_hz`` low-pass,
  time reversal and the project autoencoder's encode-decode round trip.

Tests and pass rule: :mod:`liveband.evaluation.metric_checks`. Outputs
``results/metric_validation.{json,csv,md}`` and ``results/figures/metric_validation.png``;
``metric_checks.failed_checks`` reads the JSON for the tables' captions.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from liveband.builders import load_autoencoder
from liveband.config import Params
from liveband.errors import LiveBandError
from liveband.evaluation import backends
from liveband.evaluation.degradations import codec_roundtrip, delay, lowpass, reverse, white_noise
from liveband.evaluation.metric_checks import (
    CLEAN,
    as_dicts,
    bootstrap_checks,
    paired_checks,
    rule_text,
)
from liveband.evaluation.scoring import EVAL_RATE, front_end, segment_bounds
from liveband.evaluation.test_set import EvalExample, from_frame, load_example
from liveband.metrics.beats import beat_f1
from liveband.metrics.cocola import chunk_features
from liveband.metrics.kad import kad_name
from liveband.reports.metric_validation import validation_figure, validation_markdown
from liveband.stages.runner import run_stage
from liveband.stats.frechet import FrechetDistance
from liveband.stats.kernel import KernelDistance
from liveband.utils.atomic import atomic_path, write_json, write_text
from liveband.utils.checkpoint import load_checkpoint

log = logging.getLogger("liveband.metric_validation")
TEST_LIST, REFERENCE = "artifacts/eval/test_list.csv", "artifacts/eval/reference.pt"
AUTOENCODER = "artifacts/autoencoder/model.pt"
RESULTS = Path("results")
OTHER_SONG = "other song, same class"


def shift_label(seconds: float) -> str:
    return f"shift {seconds * 1000:g} ms"


def same_class_partners(examples: list[EvalExample], rng: np.random.Generator) -> tuple[list[int], list[str]]:
    """For each example, another track's example of the same ``inst_class``; when its class has
    none, another track's example of any class, with a note saying so."""
    partners, notes = [], []
    for ex in examples:
        others = [j for j, o in enumerate(examples) if o.track != ex.track]
        if not others:
            raise LiveBandError(f"{TEST_LIST}: the same-song swap needs at least 2 test tracks")
        same = [j for j in others if examples[j].inst_class == ex.inst_class]
        if not same:
            notes.append(f"{ex.track} ({ex.inst_class}): no other test stem of its class, partner of any class")
        partners.append(int(rng.choice(same or others)))
    return partners, notes


def timing_conditions(targets: list[np.ndarray], a: int, b: int, sr: int,
                      shifts: tuple[float, ...]) -> dict[str, list[np.ndarray]]:
    """The true stem's segment, clean and played late by each shift."""
    out = {CLEAN: [t[:, a:b] for t in targets]}
    return out | {shift_label(s): [delay(t, a, b, int(round(s * sr))) for t in targets] for s in shifts}


def quality_conditions(targets: list[np.ndarray], a: int, b: int, sr: int, params: Params,
                       rng: np.random.Generator, device="cpu") -> dict[str, list[np.ndarray]]:
    """The true stem's segment, clean and through each degradation FAD/KAD must notice (the
    autoencoder round trip computed on ``device``)."""
    mv = params.metric_validation
    clean = [t[:, a:b] for t in targets]
    out = {CLEAN: clean}
    out |= {f"noise {snr:g} dB SNR": [white_noise(x, snr, rng) for x in clean] for snr in mv.snrs_db}
    out[f"low-pass {mv.lowpass_hz:g} Hz"] = [lowpass(x, mv.lowpass_hz, sr) for x in clean]
    out["time-reversed"] = [reverse(x) for x in clean]
    autoencoder = load_autoencoder(AUTOENCODER).to(device)  # decoded from the song's start, as the codec row
    out["autoencoder round trip"] = [codec_roundtrip(autoencoder, t[:, :b], device)[:, a:b] for t in targets]
    return out


def per_example_scores(mixes16: list[np.ndarray], conditions16: dict[str, list[np.ndarray]], partners: list[int],
                       tracker, scorer) -> dict[str, dict[str, np.ndarray]]:
    """``{metric key: {condition: (n,) scores}}`` for BA F1 and every adherence mode, with the
    keys and metric calls of :meth:`~liveband.evaluation.scoring.SegmentScores.summary`. The
    same-class swap pairs each mix with its partner's clean stem (features computed once)."""
    mix_beats = tracker.track_many(mixes16, EVAL_RATE)
    mix_features = [chunk_features(m, EVAL_RATE) for m in mixes16]
    stems = {}  # condition -> (beats, features) of each example's stem
    for name, clips in tqdm(conditions16.items(), desc="per-example metrics", unit="condition"):
        stems[name] = (tracker.track_many(clips, EVAL_RATE), [chunk_features(c, EVAL_RATE) for c in clips])
    clean_beats, clean_features = stems[CLEAN]
    stems[OTHER_SONG] = ([clean_beats[j] for j in partners], [clean_features[j] for j in partners])
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, (beats, features) in stems.items():
        out.setdefault(f"BA F1 ({tracker.name})", {})[name] = np.array(
            [beat_f1(m, s) for m, s in zip(mix_beats, beats, strict=True)])
        adherence = [scorer.score_features(m, s) for m, s in zip(mix_features, features, strict=True)]
        for mode in adherence[0]:
            out.setdefault(f"{scorer.name} {mode}", {})[name] = np.array([a[mode] for a in adherence])
    return out


def set_level_statistics(name: str, reference: np.ndarray, clips: dict[str, list[np.ndarray]]) -> dict:
    """``{metric key: statistic(condition, counts)}`` for the FAD and KAD of one embedder: the
    tables' bootstrap batches (:mod:`liveband.stats.frechet`, :mod:`liveband.stats.kernel`; KAD's
    bandwidth from the reference alone, as in the evaluation)."""
    fad_, kad_ = FrechetDistance(), KernelDistance()
    return {name: lambda c, counts: fad_.batch(reference, clips[c], counts),
            kad_name(name): lambda c, counts: kad_.batch(reference, clips[c], counts)}


def set_level_checks(embedders, reference: dict[str, np.ndarray], conditions16: dict[str, list[np.ndarray]],
                     params: Params) -> tuple[list, dict, dict]:
    """FAD and KAD checks of every embedder; also each metric's value per condition and the
    seconds each embedder took to embed every condition's clips."""
    mv, degraded = params.metric_validation, [c for c in conditions16 if c != CLEAN]
    results, values, seconds = [], {}, {}
    for e in embedders:
        if e.name not in reference:
            raise LiveBandError(f"{REFERENCE}: no {e.name} reference embeddings (rerun eval_reference)")
        start = time.perf_counter()
        clips = {c: [e.embed(x, EVAL_RATE) for x in xs] for c, xs in conditions16.items()}
        seconds[e.name] = round(time.perf_counter() - start, 2)
        for metric, statistic in set_level_statistics(e.name, reference[e.name], clips).items():
            results += bootstrap_checks(metric, statistic, degraded, len(conditions16[CLEAN]), "rise",
                                        mv.n_bootstrap, np.random.default_rng(mv.seed))
            values[metric] = {c: {"value": float(statistic(c, np.ones((1, len(conditions16[c]))))[0]),
                                  "half_width": None} for c in conditions16}
    return results, values, seconds


def timing_checks(examples: list[EvalExample], mixes16: list[np.ndarray], targets: list[np.ndarray], a: int,
                  b: int, params: Params, rng: np.random.Generator) -> tuple[list, dict, list[str]]:
    """Adherence and BA F1 checks (they must fall), each metric's mean (95% interval) per
    condition, and the notes of the same-class swap."""
    mv, sr = params.metric_validation, params.audio.sample_rate
    partners, notes = same_class_partners(examples, rng)
    conditions16 = {c: [front_end(x, sr) for x in xs]
                    for c, xs in timing_conditions(targets, a, b, sr, mv.shifts_seconds).items()}
    scores = per_example_scores(mixes16, conditions16, partners, backends.beat_tracker(params),
                                backends.adherence_scorer(params))
    checks, values = [], {}
    for metric, by_condition in scores.items():
        degraded = {c: v for c, v in by_condition.items() if c != CLEAN}
        checks += paired_checks(metric, by_condition[CLEAN], degraded, "fall", mv.alpha)
        values[metric] = {c: {"value": float(np.mean(v)),
                              "half_width": float(1.96 * np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else None}
                          for c, v in by_condition.items()}
    return checks, values, notes


def write_outputs(result: dict) -> None:
    write_json(RESULTS / "metric_validation.json", result)
    with atomic_path(RESULTS / "metric_validation.csv") as tmp:
        pd.DataFrame(result["checks"]).to_csv(tmp, index=False)
    write_text(RESULTS / "metric_validation.md", validation_markdown(result))
    validation_figure(result, RESULTS / "figures" / "metric_validation.png")


def run(params: Params, args: argparse.Namespace) -> None:
    mv, ev, sr, ch = params.metric_validation, params.evaluation, params.audio.sample_rate, params.audio.channels
    examples = from_frame(pd.read_csv(TEST_LIST))[: mv.n_examples]
    [(a, b)] = segment_bounds(ev.lead_frames * params.audio.hop, int(round(ev.segment_seconds * sr)), 1)
    audio = [load_example(ex, sr, ch, b / sr) for ex in tqdm(examples, desc="test examples", unit="example")]
    mixes16, targets = [front_end(mix[:, a:b], sr) for mix, _ in audio], [target for _, target in audio]
    rng = np.random.default_rng(mv.seed)
    start = time.perf_counter()
    checks, values, notes = timing_checks(examples, mixes16, targets, a, b, params, rng)
    seconds = {"per-example metrics": round(time.perf_counter() - start, 2)}
    start = time.perf_counter()
    conditions = quality_conditions(targets, a, b, sr, params, rng, args.device)
    quality16 = {c: [front_end(x, sr) for x in xs] for c, xs in conditions.items()}
    reference = {k: v.numpy() for k, v in load_checkpoint(REFERENCE, kind="eval_reference")["embeddings"].items()}
    set_results, set_values, embedding_seconds = set_level_checks(backends.embedders(params), reference, quality16, params)
    seconds["set-level metrics"] = round(time.perf_counter() - start, 2)
    write_outputs({
        "profile": params.profile, "n_examples": len(examples), "segment_seconds": (b - a) / sr,
        "alpha": mv.alpha, "n_bootstrap": mv.n_bootstrap, "seed": mv.seed,
        "rule": rule_text(mv.alpha, mv.n_bootstrap, len(mv.shifts_seconds) + 1), "notes": notes,
        "seconds": seconds | {f"embedding ({k})": v for k, v in embedding_seconds.items()},
        "checks": as_dicts(checks + set_results), "values": values | set_values,
    })
    log.info("seconds: %s", seconds)
    log.info("\n%s", pd.DataFrame(as_dicts(checks + set_results))[["metric", "check", "difference", "p_holm", "ci_low",
                                                                    "status"]].to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    return run_stage("metric_validation", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
