"""Stage `evaluate --variant SYSTEM`: one row of the tables (evaluation.systems).

Streaming systems generate each test example's accompaniment through the same path as
``liveband accompany`` (frame by frame, rolling KV cache) and are scored on every segment;
the first segment's values and the drift (second minus first) go to the tables.
Non-streaming systems (the bidirectional bound) are scored on the first segment only.
Output: ``results/eval/<system>.json``.
"""

from __future__ import annotations

import argparse
import logging
import sys

import pandas as pd
from tqdm import tqdm

from liveband.config import Params
from liveband.errors import LiveBandError
from liveband.evaluation import backends
from liveband.evaluation.scoring import SegmentScores, front_end
from liveband.evaluation.systems import System
from liveband.evaluation.test_set import from_frame, load_example
from liveband.stages.eval_reference import window
from liveband.stages.runner import run_stage
from liveband.training.checkpoint import load_checkpoint
from liveband.utils.atomic import write_json

log = logging.getLogger("liveband.evaluate")


def drift(first: dict, second: dict) -> dict:
    return {k: second[k]["value"] - first[k]["value"] for k in first if k in second}


def run(params: Params, args: argparse.Namespace) -> None:
    name = args.variant
    if name not in params.evaluation.systems:
        raise LiveBandError(f"--variant: '{name}' is not one of evaluation.systems")
    spec = params.evaluation.systems[name]
    system = System(spec.kind, spec.checkpoint)
    reference = load_checkpoint("artifacts/eval/reference.pt", kind="eval_reference")
    examples = from_frame(pd.read_csv("artifacts/eval/test_list.csv"))
    sr, ch = params.audio.sample_rate, params.audio.channels
    total, bounds = window(params)
    n_segments = len(bounds) if system.streaming else 1
    embedders = backends.embedders(params)
    tracker, scorer = backends.beat_tracker(params), backends.adherence_scorer(params)
    audio = [load_example(ex, sr, ch, total / sr) for ex in examples]
    mixes, targets = [a[0] for a in audio], [a[1] for a in audio]
    log.info("%s: generating %d examples", name, len(examples))
    outputs = system.play_all(mixes, targets, targets[1:] + targets[:1], [ex.class_id for ex in examples],
                              [params.evaluation.seed + i for i in range(len(examples))], sr)
    segments = [SegmentScores() for _ in range(n_segments)]
    for k in tqdm(range(n_segments), desc=f"score {name}", unit="segment"):
        a, b = bounds[k]
        segments[k].add_all([feats[k] for feats in reference["mix_features"]], [front_end(o[:, a:b], sr) for o in outputs],
                            [beats[k].numpy() for beats in reference["mix_beats"]], embedders, tracker, scorer)
    ref = {k: v.numpy() for k, v in reference["embeddings"].items()}
    summaries = [s.summary(ref, scorer.name, tracker.name) for s in segments]
    result = {
        "system": name, "kind": spec.kind, "streaming": system.streaming, "n_examples": len(examples),
        "segment_seconds": params.evaluation.segment_seconds, "lead_frames": params.evaluation.lead_frames,
        "profile": params.profile, "segments": summaries,
        "drift": drift(summaries[0], summaries[1]) if len(summaries) > 1 else None,
        "tau_frames": getattr(getattr(system, "bundle", None), "tau_frames", None),
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
