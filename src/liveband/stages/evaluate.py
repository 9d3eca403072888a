"""Stage `evaluate --variant SYSTEM`: one row of the tables (evaluation.systems).

Streaming systems generate each test example's accompaniment through the same path as
``liveband accompany`` (frame by frame, rolling KV cache) and are scored on every segment;
the first segment's values and the drift (second minus first) go to the tables.
Non-streaming systems (the bidirectional bound) and systems with ``drift: false`` (rows whose
tables report the first segment only) are scored, and generated, on the first segment only.
Outputs: ``results/eval/<system>.json`` (set-level values and means), every per-example score
``results/eval/<system>.examples.csv`` and the per-clip embeddings
``artifacts/eval/embeddings/<system>.npz`` (intervals and paired tests are computed from them).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from liveband.config import Params
from liveband.errors import LiveBandError
from liveband.evaluation import backends
from liveband.evaluation.scoring import SegmentScores, active_percent, front_end, window
from liveband.evaluation.systems import System
from liveband.evaluation.test_set import from_frame, load_example, load_partner
from liveband.stages.runner import run_stage
from liveband.utils.atomic import atomic_path, write_json
from liveband.utils.checkpoint import load_checkpoint

log = logging.getLogger("liveband.evaluate")


def drift(first: dict, second: dict) -> dict:
    return {k: second[k]["value"] - first[k]["value"] for k in first if k in second}


def per_example_frame(examples, segments: list[SegmentScores], adherence_name: str, tracker_name: str,
                      flagged: set[int]) -> pd.DataFrame:
    """One row per (example, segment): every per-example metric, plus whether the mix's own beat
    tracking failed against the true beats there (BA F1 is unreliable on those examples)."""
    frames = []
    for k, seg in enumerate(segments):
        df = pd.DataFrame({"example": [ex.example for ex in examples], "segment": k,
                           "track": [ex.track for ex in examples], "inst_class": [ex.inst_class for ex in examples],
                           "mix_tracking_failed": [ex.example in flagged for ex in examples]})
        frames.append(pd.concat([df, pd.DataFrame(seg.columns(adherence_name, tracker_name))], axis=1))
    return pd.concat(frames, ignore_index=True)


def save_embeddings(path: Path, segments: list[SegmentScores]) -> None:
    """``{E}/seg{k}``: every example's frames stacked; ``{E}/seg{k}/offsets``: example i is rows
    offsets[i]:offsets[i+1] (for clip-level bootstraps of the set-level metrics)."""
    arrays = {}
    for k, seg in enumerate(segments):
        for name, clips in seg.embeddings.items():
            arrays[f"{name}/seg{k}"] = np.concatenate(clips).astype(np.float32)
            arrays[f"{name}/seg{k}/offsets"] = np.cumsum([0] + [len(c) for c in clips]).astype(np.int64)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def run(params: Params, args: argparse.Namespace) -> None:
    name = args.variant
    if name not in params.evaluation.systems:
        raise LiveBandError(f"--variant: '{name}' is not one of evaluation.systems")
    spec = params.evaluation.systems[name]
    system = System(spec.kind, spec.checkpoint, args.device)
    bundle = getattr(system, "bundle", None)
    reference = load_checkpoint("artifacts/eval/reference.pt", kind="eval_reference")
    examples = from_frame(pd.read_csv("artifacts/eval/test_list.csv"))
    sr, ch = params.audio.sample_rate, params.audio.channels
    total, bounds = window(params.evaluation, params.audio)
    n_segments = len(bounds) if system.streaming and spec.drift else 1
    total = bounds[n_segments - 1][1]  # generate only what is scored
    embedders = backends.embedders(params)
    tracker, scorer = backends.beat_tracker(params), backends.adherence_scorer(params)
    audio = [load_example(ex, sr, ch, total / sr) for ex in examples]
    mixes, targets = [a[0] for a in audio], [a[1] for a in audio]
    partners = ([load_partner(ex, sr, ch, total / sr) for ex in examples] if spec.kind == "mismatched"
                else targets)
    log.info("%s: generating %d examples", name, len(examples))
    outputs = system.play_all(mixes, targets, partners, [ex.class_id for ex in examples],
                              [params.evaluation.seed + ex.example for ex in examples], sr)
    true_beats = reference.get("true_beats")
    by_id = {ex.example: i for i, ex in enumerate(examples)}
    segments = [SegmentScores() for _ in range(n_segments)]
    for k in tqdm(range(n_segments), desc=f"score {name}", unit="segment"):
        a, b = bounds[k]
        features = [feats[k] for feats in reference["mix_features"]]
        segments[k].add_all(features, [front_end(o[:, a:b], sr) for o in outputs],
                            [beats[k].numpy() for beats in reference["mix_beats"]], embedders, tracker, scorer,
                            true_beats=[t[k].numpy() for t in true_beats] if true_beats else None,
                            offsong=[by_id[ex.mismatch_example] for ex in examples],
                            active=[active_percent(o[:, a:b], params.audio.hop, params.data.sampler.silence_db)
                                    for o in outputs])
    tracking = json.loads(Path("results/beat_tracker.json").read_text())
    flagged = {f["example"] for f in tracking.get("failed_examples", [])}
    with atomic_path(f"results/eval/{name}.examples.csv") as tmp:
        per_example_frame(examples, segments, scorer.name, tracker.name, flagged).to_csv(tmp, index=False)
    save_embeddings(Path(f"artifacts/eval/embeddings/{name}.npz"), segments)
    ref = {k: v.numpy() for k, v in reference["embeddings"].items()}
    summaries = [s.summary(ref, scorer.name, tracker.name) for s in segments]
    result = {
        "system": name, "kind": spec.kind, "streaming": system.streaming, "n_examples": len(examples),
        "segment_seconds": params.evaluation.segment_seconds, "lead_frames": params.evaluation.lead_frames,
        "profile": params.profile, "segments": summaries,
        "drift": drift(summaries[0], summaries[1]) if len(summaries) > 1 else None,
        "tau_frames": bundle.tau_frames if bundle else None,
        "training_seed": bundle.extra.get("seed") if bundle else None,
        "n_mix_tracking_failed": len(flagged),
        "generation_real_time_factor": (system.audio_seconds / system.generation_seconds
                                        if system.generation_seconds else None),
    }
    write_json(f"results/eval/{name}.json", result)
    log.info("%s first segment: %s", name, {k: round(v["value"], 3) for k, v in summaries[0].items()})


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--variant", required=True, help="a key of evaluation.systems in params.yaml")


def main(argv: list[str] | None = None) -> int:
    return run_stage("evaluate", run, add_args, argv)


if __name__ == "__main__":
    sys.exit(main())
