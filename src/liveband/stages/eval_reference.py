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
from liveband.evaluation.scoring import EVAL_RATE, front_end, segment_bounds
from liveband.evaluation.test_set import build_test_list, load_example, to_frame
from liveband.metrics.beats import beat_f1
from liveband.metrics.cocola import chunk_features
from liveband.stages.runner import run_stage
from liveband.training.checkpoint import save_checkpoint
from liveband.utils.atomic import atomic_path, write_json

log = logging.getLogger("liveband.eval_reference")


def window(params: Params) -> tuple[int, list[tuple[int, int]]]:
    """Total samples evaluated per example, and the segments' (start, end) samples."""
    ev, audio = params.evaluation, params.audio
    bounds = segment_bounds(ev.lead_frames * audio.hop, int(round(ev.segment_seconds * audio.sample_rate)),
                            ev.n_segments)
    return bounds[-1][1], bounds


def run(params: Params, args: argparse.Namespace) -> None:
    ev, sr, ch = params.evaluation, params.audio.sample_rate, params.audio.channels
    total, bounds = window(params)
    index = read_index("artifacts/data/index.csv")
    examples = build_test_list(index, ev.n_examples, total / sr + 0.05, ev.seed)
    with atomic_path("artifacts/eval/test_list.csv") as tmp:
        to_frame(examples).to_csv(tmp, index=False)
    tracker = backends.beat_tracker(params)
    mixes = [load_example(ex, sr, ch, total / sr)[0] for ex in tqdm(examples, desc="test mixes", unit="example")]
    segments16 = [[front_end(mix[:, a:b], sr) for mix in mixes] for a, b in bounds]             # [segment][example]
    per_segment = [tracker.track_many(clips, EVAL_RATE) for clips in segments16]
    mix_beats = [[torch.from_numpy(beats[i]) for beats in per_segment] for i in range(len(mixes))]
    mix_features = [[chunk_features(clips[i], EVAL_RATE) for clips in segments16] for i in range(len(mixes))]
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
    })
    write_json("results/beat_tracker.json", tracker_validation(params, examples, per_segment[0], tracker.name, bounds))


def tracker_validation(params: Params, examples, first_segment_beats, tracker_name: str, bounds) -> dict:
    """F1 of the beats tracked on the test mixes' first segments against the songs' true beats
    (synthetic set only)."""
    beats = json.loads(open("artifacts/data/beats.json").read())
    if not beats.get("available"):
        return {"available": False, "reason": beats.get("reason", "no annotated beats")}
    truth = {t["track"]: np.array(t["beats"]) for t in beats["tracks"]}
    sr, (a, b) = params.audio.sample_rate, bounds[0]
    scores = []
    for ex, estimate in zip(examples, first_segment_beats):
        true = truth[ex.track]
        scores.append(beat_f1(true[(true >= a / sr) & (true < b / sr)] - a / sr, estimate))
    return {"available": True, "tracker": tracker_name, "segment_seconds": (b - a) / sr,
            "f1_mean": float(np.mean(scores)), "f1_min": float(np.min(scores)), "n": len(scores),
            "window_ms": 70}


def main(argv: list[str] | None = None) -> int:
    return run_stage("eval_reference", run, None, argv)


if __name__ == "__main__":
    sys.exit(main())
