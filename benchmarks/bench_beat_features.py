"""Time madmom's beat-tracking front end, madmom's per-frame chain vs the vectorised BeatFeatures.

For each clip (a synthetic 120 BPM click + chord clip of ``--seconds``, plus the first
``--seconds`` of each ``--audio`` file, resampled to 44.1 kHz) prints the median seconds of
madmom's pre-processor (``RNNBeatProcessor().processors[0]``: framing, per-frame FFT,
filterbank, log, diff for 3 frame sizes) and of :class:`~liveband.metrics.beat_features.BeatFeatures`,
their ratio and the largest absolute difference of the features; with ``--tracker`` also the
whole MadmomBeatTracker per clip (features + batched networks + DBN) with either front end,
and whether the beat times are identical.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_beat_features.py
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_beat_features.py --tracker --audio a.flac b.flac
"""

from __future__ import annotations

import argparse

import numpy as np
import soundfile as sf
import torch
from timing import median_seconds  # benchmarks/timing.py (scripts run as files)

from liveband.metrics._madmom import import_madmom
from liveband.metrics.beats import MadmomBeatTracker
from liveband.metrics.loudness import resample

SR = 44_100


def _synthetic(seconds: float) -> np.ndarray:
    """Decaying noise clicks at 120 BPM over a two-note chord."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    audio = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 330 * t)
    n = int(0.03 * SR)
    for beat in np.arange(0.25, seconds, 0.5):
        i = int(beat * SR)
        m = min(n, len(t) - i)
        audio[i:i + m] += 0.4 * rng.standard_normal(m) * np.exp(-np.arange(m) / (0.005 * SR))
    return audio.astype(np.float32)


def _load(path: str, seconds: float) -> np.ndarray:
    audio, sr = sf.read(path, dtype="float32", always_2d=True, frames=int(seconds * sf.info(path).samplerate))
    return resample(audio.mean(axis=1), sr, SR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--audio", nargs="*", default=[], help="audio files to time as well (first --seconds)")
    parser.add_argument("--tracker", action="store_true", help="also time the whole tracker with each front end")
    args = parser.parse_args()
    torch.set_num_threads(1)
    import_madmom()
    from madmom.features.beats import RNNBeatProcessor

    new = MadmomBeatTracker()
    old = MadmomBeatTracker()
    old._features = RNNBeatProcessor().processors[0]  # madmom's own per-frame chain
    clips = [("synthetic clicks + chord", _synthetic(args.seconds))] + [(p, _load(p, args.seconds)) for p in args.audio]

    print(f"{args.seconds:g} s clips at {SR} Hz, 1 thread, median of {args.repeats} (after one warm-up)")
    for name, clip in clips:
        t_old = median_seconds(lambda c=clip: old._features(c), args.repeats)
        t_new = median_seconds(lambda c=clip: new._features(c), args.repeats)
        diff = float(np.abs(old._features(clip) - new._features(clip)).max())
        print(f"{name}: features madmom {t_old:.4f} s, vectorised {t_new:.4f} s ({t_old / t_new:.1f}x), "
              f"max |diff| {diff:.3g}")
        if args.tracker:
            t_old = median_seconds(lambda c=clip: old.track(c, SR), args.repeats)
            t_new = median_seconds(lambda c=clip: new.track(c, SR), args.repeats)
            same = np.array_equal(old.track(clip, SR), new.track(clip, SR))
            print(f"  tracker per clip: madmom front end {t_old:.3f} s, vectorised {t_new:.3f} s, same beats: {same}")


if __name__ == "__main__":
    main()
