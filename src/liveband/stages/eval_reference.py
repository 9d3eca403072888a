"""Stage `eval_reference`: what every `evaluate@<system>` job shares, computed once.

The fixed test list, the input mixes' beats per segment (BA F1's reference) and their
adherence chunk features (the mix side of every COCOLA score, the same for all systems), the FAD
reference set (embeddings of real target stems from the validation split, so the ground
truth row measures real-vs-real, not zero), and the beat tracker's accuracy on the
synthetic songs' true beats. Outputs ``artifacts/eval/test_list.csv``,
``artifacts/eval/reference.pt`` and ``results/beat_tracker.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

import numpy as np
import torch
from tqdm import tqdm

from liveband.config import Params
from liveband.data.audio_io import read_audio, resample, to_channels
from liveband.data.slakh import read_index
from liveband.evaluation import backends
from liveband.evaluation.scoring import EVAL_RATE, front_end, window
from liveband.evaluation.test_set import build_test_list, load_example, to_frame
from liveband.metrics.beats import beat_f1
from liveband.metrics.cocola import chunk_features
from liveband.stages.runner import run_stage
from liveband.utils.atomic import atomic_path, write_json
from liveband.utils.checkpoint import save_checkpoint

log = logging.getLogger("liveband.eval_reference")


def run(params: Params, args: argparse.Namespace) -> None:
    ev, sr, ch = params.evaluation, params.audio.sample_rate, params.audio.channels
    total, bounds = window(ev, params.audio)
    index = read_index("artifacts/data/index.csv")
    examples = build_test_list(index, ev.n_examples, total / sr + 0.05, ev.seed, ev.targets_per_track)
    with atomic_path("artifacts/eval/test_list.csv") as tmp:
        to_frame(examples).to_csv(tmp, index=False)
    tracker = backends.beat_tracker(params)
    mixes = [load_example(ex, sr, ch, total / sr)[0] for ex in tqdm(examples, desc="test mixes", unit="example")]
    segments16 = [[front_end(mix[:, a:b], sr) for mix in mixes] for a, b in bounds]             # [segment][example]
    per_segment = [tracker.track_many(clips, EVAL_RATE) for clips in segments16]
    mix_beats = [[torch.from_numpy(beats[i]) for beats in per_segment] for i in range(len(mixes))]
    mix_features = [[chunk_features(clips[i], EVAL_RATE) for clips in segments16] for i in range(len(mixes))]
    true_beats = segment_true_beats(examples, bounds, sr)                              # [example][segment] or None
    rng = np.random.default_rng(ev.seed + 1)
    val = list(index[index.split == "validation"].groupby("track", sort=True))
    embedders = backends.embedders(params)
    reference = {e.name: [] for e in embedders}
    for k in tqdm(range(ev.n_reference), desc="FAD reference", unit="stem"):
        _, rows = val[k % len(val)]
        row = rows.iloc[int(rng.integers(len(rows)))]
        audio, file_sr = read_audio(f"{row.root}/{row.stem_path}")
        audio = to_channels(resample(audio, file_sr, sr), ch)[:, bounds[0][0]:bounds[0][1]]
        clip = front_end(audio, sr)
        for e in embedders:
            reference[e.name].append(e.embed(clip, EVAL_RATE))
    save_checkpoint("artifacts/eval/reference.pt", {
        "kind": "eval_reference", "config": {"evaluation": ev.__dict__ | {"systems": list(ev.systems)}}, "step": 0,
        "embeddings": {k: torch.from_numpy(np.concatenate(v)) for k, v in reference.items()},
        "mix_beats": mix_beats, "mix_features": mix_features, "bounds": bounds,
        "true_beats": [[torch.from_numpy(b) for b in beats] for beats in true_beats] if true_beats else None,
    })
    write_json("results/beat_tracker.json", tracker_validation(examples, per_segment, true_beats, tracker.name,
                                                               bounds, sr))


def segment_true_beats(examples, bounds, sr: int) -> list[list[np.ndarray]] | None:
    """Each example's annotated beats inside each segment, in seconds from the segment's start
    (``artifacts/data/beats.json``: the synthetic set has them, real Slakh does not)."""
    beats = json.loads(open("artifacts/data/beats.json").read())
    if not beats.get("available"):
        return None
    truth = {t["track"]: np.array(t["beats"], dtype=np.float64) for t in beats["tracks"]}
    out = []
    for ex in examples:
        true = truth.get(ex.track)
        if true is None:
            return None
        out.append([true[(true >= a / sr) & (true < b / sr)] - a / sr for a, b in bounds])
    return out


FAILED_TRACKING_F1 = 0.5  # a mix whose tracked beats score below this against the truth is flagged


def tracker_validation(examples, per_segment, true_beats, tracker_name: str, bounds, sr: int) -> dict:
    """F1 of the beats tracked on the test mixes against the songs' true beats, per segment, and
    the examples whose mix tracking fails (BA F1 against the mix's beats is unreliable there)."""
    if true_beats is None:
        return {"available": False, "reason": "no annotated beats in this data set (artifacts/data/beats.json)"}
    scores = np.array([[beat_f1(true_beats[i][k], per_segment[k][i]) for k in range(len(bounds))]
                       for i in range(len(examples))])
    failed = [{"example": ex.example, "track": ex.track, "f1": [round(float(x), 3) for x in scores[i]]}
              for i, ex in enumerate(examples) if scores[i].min() < FAILED_TRACKING_F1]
    a, b = bounds[0]
    return {"available": True, "tracker": tracker_name, "segment_seconds": (b - a) / sr,
            "f1_mean": float(scores[:, 0].mean()), "f1_min": float(scores[:, 0].min()), "n": len(examples),
            "f1_mean_per_segment": [float(x) for x in scores.mean(axis=0)], "window_ms": 70,
            "failed_threshold": FAILED_TRACKING_F1, "failed_examples": failed,
            "per_example_f1": [[float(x) for x in row] for row in scores]}


def main(argv: list[str] | None = None) -> int:
    return run_stage("eval_reference", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
