"""Time each evaluation backend on 10 s of audio (a mix and a stem at 44.1 kHz, like a segment).

Runs what works offline: loudness normalisation + resampling, FAD embedders (FAD-logmel,
FAD-CREPE if torchcrepe is installed, FAD-VGGish with random weights for its cost only), the
Fréchet distance on 128-d embeddings, madmom beat tracking of mix + stem, and COCOLA-local
features and scoring (random weights; the cost does not depend on training). With ``--train N``
it also times ``train_cocola_local`` on N synthetic 5 s pairs for ``--steps`` steps.
Backends that need a local checkpoint (VGGish weights, CLAP, COCOLA, BeatThis) are listed as
skipped. Prints the median of ``--repeats`` runs after one warm-up.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_metrics.py
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_metrics.py --threads 2 --train 300 --steps 300

``--threads`` sets torch's intra-op threads only. Keep OMP_NUM_THREADS=1 for numpy/scipy: on a
busy 2-core machine a 2-thread BLAS made the 128-d Fréchet distance ~150x slower (1.9 s vs 0.011 s).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
from timing import median_seconds  # benchmarks/timing.py (scripts run as files)

from liveband.errors import LiveBandError
from liveband.metrics import cocola, fad
from liveband.metrics.beats import beat_alignment_f1, make_beat_tracker
from liveband.metrics.loudness import prepare_for_metrics

SR = 44_100
EVAL_SR = 16_000


def _test_audio(seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A 120 BPM click + chord 'mix' and a bass-like 'stem' (content hardly matters for speed)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    clicks = np.zeros_like(t)
    for beat in np.arange(0.25, seconds, 0.5):
        i = int(beat * SR)
        clicks[i:i + 600] += rng.standard_normal(min(600, len(t) - i)) * np.exp(-np.arange(min(600, len(t) - i)) / 150)
    mix = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 330 * t) + 0.3 * clicks
    stem = 0.3 * np.sin(2 * np.pi * 110 * t) * (0.5 + 0.5 * np.cos(2 * np.pi * 2 * t))
    return mix.astype(np.float32), stem.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train", type=int, default=0, help="also time COCOLA-local training on N pairs")
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    mix, stem = _test_audio(args.seconds, 0)
    mix16, stem16 = prepare_for_metrics(mix, SR), prepare_for_metrics(stem, SR)
    rows: list[tuple[str, str]] = []

    def add(label: str, fn: Callable[[], object]) -> None:
        try:
            rows.append((label, f"{median_seconds(fn, args.repeats):8.3f} s"))
        except LiveBandError as exc:
            rows.append((label, f"skipped: {exc}"))

    add("loudness -18 LUFS + resample 44.1->16 kHz (one clip)", lambda: prepare_for_metrics(mix, SR))
    for name in ("spectral", "crepe-embed"):
        try:
            embedder = fad.make_embedder(name)
        except LiveBandError as exc:
            rows.append((f"embed {name}", f"skipped: {exc}"))
            continue
        add(f"embed {embedder.name} (one clip)", lambda e=embedder: e.embed(stem16, EVAL_SR))
    vggish = fad.VGGishEmbedder.__new__(fad.VGGishEmbedder)  # architecture cost only, random weights
    vggish.model = fad.VGGishNet().eval()
    add("embed FAD-VGGish architecture, random weights (one clip)", lambda: vggish.embed(stem16, EVAL_SR))
    for name in ("vggish", "clap"):
        try:
            fad.make_embedder(name)
        except LiveBandError as exc:
            rows.append((f"embed {name} (real weights)", f"skipped: {exc}"))
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2000, 128)), rng.standard_normal((2000, 128)) + 0.1
    add("Fréchet distance, 2 x 2000 frames x 128 dims", lambda: fad.fad(a, b))
    try:
        tracker = make_beat_tracker("madmom")
        add("beat F1: madmom on mix + stem", lambda: beat_alignment_f1(mix16, stem16, EVAL_SR, tracker))
    except LiveBandError as exc:
        rows.append(("beat F1: madmom", f"skipped: {exc}"))
    scorer = cocola.CocolaLocalScorer(cocola.CocolaLocal(cocola.CocolaLocalConfig()))
    add("COCOLA features: HPSS log-mel of mix + stem chunks", lambda: cocola.paired_chunk_features(mix16, stem16, EVAL_SR))
    add("COCOLA-local: three modes (features included)", lambda: scorer.score_all_modes(mix16, stem16, EVAL_SR))
    try:
        cocola.make_adherence_scorer("cocola")
    except LiveBandError as exc:
        rows.append(("COCOLA (released model)", f"skipped: {exc}"))

    print(f"{args.seconds:g} s of audio at {SR} Hz, {args.threads} thread(s), median of {args.repeats}")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")

    if args.train:
        pairs = [_test_audio(5.0, seed) for seed in range(args.train)]
        start = time.perf_counter()
        _, history = cocola.train_cocola_local(pairs, cocola.CocolaLocalConfig(), args.steps, sr=SR,
                                               log_every=max(1, args.steps // 4))
        total = time.perf_counter() - start
        steps_time = history[-1]["seconds"]
        print(f"train_cocola_local: {args.train} pairs, {args.steps} steps: {total:.1f} s total "
              f"({total - steps_time:.1f} s features, {steps_time:.1f} s steps)")


if __name__ == "__main__":
    main()
