"""Beat alignment: beats tracked on the input mix vs on the generated stem, scored by F-measure.

Trackers share the :class:`BeatTracker` interface (``.name``, ``.track(audio, sr)`` -> beat
times in seconds):

- ``madmom``: madmom's RNN beat activation + DBN decoding, with the models shipped inside
  the madmom wheel (offline). Audio is resampled to 44.1 kHz, the rate the models expect.
- ``beat_this``: Beat This! (optional package ``beat_this``) from a local checkpoint file
  (``metrics.beats.beat_this_checkpoint``); nothing is downloaded.

Scoring: ``mir_eval.beat.f_measure`` with a 70 ms window, reference = beats of the mix,
estimate = beats of the generated stem. No leading seconds are trimmed (``trim_seconds=0``):
the baseline scores with madmom's evaluation, whose default skips nothing, and the paper
scores 10 s segments, of which mir_eval's default 5 s trim would discard half. When neither
side has beats the score is 1.0 and when only one side has none it is 0.0 (madmom's
convention; mir_eval alone would return 0.0 for both and warn).
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from abc import ABC, abstractmethod
from pathlib import Path

import mir_eval
import numpy as np

from liveband.errors import LiveBandError
from liveband.metrics._madmom import import_madmom
from liveband.metrics.loudness import resample

BEAT_THIS_KEY = "metrics.beats.beat_this_checkpoint"
F_MEASURE_WINDOW = 0.07  # seconds, each side of a reference beat
DEFAULT_TRIM_SECONDS = 0.0


class BeatTracker(ABC):
    name: str  # label printed in tables

    @abstractmethod
    def track(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Beat times in seconds ``(n_beats,)`` of mono ``(N,)`` audio at ``sr``."""

    def track_many(self, clips: list[np.ndarray], sr: int) -> list[np.ndarray]:
        """:meth:`track` for each clip; trackers that can batch override this."""
        return [self.track(clip, sr) for clip in clips]


class MadmomBeatTracker(BeatTracker):
    """madmom's ``RNNBeatProcessor`` features and networks (its shipped weights) and its
    ``DBNBeatTrackingProcessor`` decoding. The features are computed for all frames at once
    (:class:`~liveband.metrics.beat_features.BeatFeatures`, read from madmom's processor and
    equal to its per-frame chain), and the 8 networks run batched over clips of equal
    length (:class:`~liveband.metrics.beat_rnn.BatchedBeatRNN`, equal to madmom's own
    evaluation to float rounding), which makes scoring an evaluation's clips ~8x faster.
    """

    name = "madmom"
    sample_rate = 44_100
    fps = 100
    max_batch = 16  # clips per batched pass (bounds the memory of the input projections)

    def __init__(self):
        import_madmom()
        from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor

        from liveband.metrics.beat_features import BeatFeatures
        from liveband.metrics.beat_rnn import BatchedBeatRNN

        processor = RNNBeatProcessor()
        self._features = BeatFeatures.from_processor(processor.processors[0])
        self._networks = BatchedBeatRNN.from_processor(processor)
        self._decoder = DBNBeatTrackingProcessor(fps=self.fps)

    def track(self, audio: np.ndarray, sr: int) -> np.ndarray:
        return self.track_many([audio], sr)[0]

    def activations(self, clips: list[np.ndarray], sr: int) -> list[np.ndarray | None]:
        """Beat activation (frames at 100 fps) of each mono clip; None for a silent clip."""
        features = []
        for clip in clips:
            x = resample(_mono(clip, self.name), sr, self.sample_rate)
            features.append(self._features(x) if np.any(x) else None)
        out: list[np.ndarray | None] = [None] * len(clips)
        by_length: dict[int, list[int]] = {}
        for i, f in enumerate(features):
            if f is not None:
                by_length.setdefault(len(f), []).append(i)
        for group in by_length.values():
            for k in range(0, len(group), self.max_batch):
                batch = group[k:k + self.max_batch]
                for i, act in zip(batch, self._networks(np.stack([features[i] for i in batch]))):
                    out[i] = act
        return out

    def track_many(self, clips: list[np.ndarray], sr: int) -> list[np.ndarray]:
        return [np.zeros(0) if act is None else np.asarray(self._decoder(act), dtype=np.float64)
                for act in self.activations(clips, sr)]


class BeatThisTracker(BeatTracker):
    """Beat This! beat tracker; expects the package's own checkpoint format (a Lightning
    ``.ckpt`` as released by its authors), given as a local path.
    """

    name = "BeatThis"

    def __init__(self, checkpoint: str | Path | None, dbn: bool = False):
        if checkpoint is None or str(checkpoint).strip() == "":
            raise LiveBandError(f"{BEAT_THIS_KEY}: not configured; BeatThis needs a local checkpoint file (nothing can be downloaded)")
        if not Path(checkpoint).is_file():
            raise LiveBandError(f"{BEAT_THIS_KEY}: checkpoint not found at {checkpoint}")
        if importlib.util.find_spec("beat_this") is None:
            raise LiveBandError(f"{BEAT_THIS_KEY}: BeatThis needs the optional package beat_this")
        try:
            inference = importlib.import_module("beat_this.inference")
            self._model = inference.Audio2Beats(checkpoint_path=str(checkpoint), device="cpu", dbn=dbn)
        except Exception as exc:
            raise LiveBandError(f"{BEAT_THIS_KEY}: could not load {checkpoint} ({type(exc).__name__}: {exc})") from None

    def track(self, audio: np.ndarray, sr: int) -> np.ndarray:
        beats, _downbeats = self._model(_mono(audio, self.name), sr)
        return np.asarray(beats, dtype=np.float64)


def make_beat_tracker(name: str = "madmom", checkpoint: str | Path | None = None) -> BeatTracker:
    if name == "madmom":
        return MadmomBeatTracker()
    if name == "beat_this":
        return BeatThisTracker(checkpoint)
    raise LiveBandError(f"metrics.beats.tracker: unknown beat tracker '{name}' (choose madmom or beat_this)")


def beat_f1(reference: np.ndarray, estimate: np.ndarray, trim_seconds: float = DEFAULT_TRIM_SECONDS) -> float:
    """F-measure (70 ms window) of ``estimate`` against ``reference`` beat times in seconds."""
    ref = np.sort(np.asarray(reference, dtype=np.float64).ravel())
    est = np.sort(np.asarray(estimate, dtype=np.float64).ravel())
    if trim_seconds > 0:
        ref, est = ref[ref >= trim_seconds], est[est >= trim_seconds]
    if len(ref) == 0 and len(est) == 0:
        return 1.0
    if len(ref) == 0 or len(est) == 0:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mir_eval warns on very short beat lists
        return float(mir_eval.beat.f_measure(ref, est, f_measure_threshold=F_MEASURE_WINDOW))


def beat_alignment_f1(mix: np.ndarray, stem: np.ndarray, sr: int, tracker: BeatTracker,
                      trim_seconds: float = DEFAULT_TRIM_SECONDS) -> float:
    """BA F1: beats tracked on the input ``mix`` (reference) vs on the generated ``stem``."""
    return beat_f1(tracker.track(mix, sr), tracker.track(stem, sr), trim_seconds)


def tracker_accuracy(audio: np.ndarray, true_beats: np.ndarray, sr: int,
                     tracker: BeatTracker | None = None,
                     trim_seconds: float = DEFAULT_TRIM_SECONDS) -> float:
    """F-measure of a tracker on audio whose true beat times are known (tracker validation)."""
    tracker = make_beat_tracker() if tracker is None else tracker
    return beat_f1(true_beats, tracker.track(audio, sr), trim_seconds)


def _mono(audio: np.ndarray, who: str) -> np.ndarray:
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1:
        raise LiveBandError(f"{who}: expected mono (N,) audio, got shape {x.shape}")
    return x
