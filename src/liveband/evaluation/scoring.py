"""Scoring one segment of many examples: FAD and KAD per embedding backend (set level), beat-alignment
F1 and adherence per example, after the public baseline's front end (-18 LUFS, 16 kHz, mono).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from liveband.metrics.beats import BeatTracker, beat_f1
from liveband.metrics.cocola import AdherenceScorer, chunk_features
from liveband.metrics.fad import Embedder, fad
from liveband.metrics.kad import KAD_SCALE, kad, kad_name
from liveband.metrics.loudness import prepare_for_metrics

EVAL_RATE = 16_000


def front_end(audio: np.ndarray, sr: int) -> np.ndarray:
    """(C, T) -> mono (T',) at 16 kHz, loudness-normalised; silence stays silence."""
    mono = np.asarray(audio, dtype=np.float64).mean(axis=0)
    if not np.any(np.abs(mono) > 1e-6):
        return np.zeros(int(round(len(mono) * EVAL_RATE / sr)), dtype=np.float32)
    return prepare_for_metrics(mono, sr).astype(np.float32)


@dataclass
class SegmentScores:
    """Accumulates one segment's per-example scores and embeddings."""

    embeddings: dict[str, list[np.ndarray]] = field(default_factory=dict)
    beat_f1: list[float] = field(default_factory=list)
    adherence: dict[str, list[float]] = field(default_factory=dict)

    def add(self, mix_features: torch.Tensor, stem16: np.ndarray, mix_beats: np.ndarray, stem_beats: np.ndarray,
            embedders: list[Embedder], scorer: AdherenceScorer) -> None:
        """One example: ``mix_features`` are the mix segment's adherence chunk features
        (:func:`~liveband.metrics.cocola.chunk_features`, computed once in ``eval_reference``)."""
        for emb in embedders:
            self.embeddings.setdefault(emb.name, []).append(emb.embed(stem16, EVAL_RATE))
        self.beat_f1.append(beat_f1(mix_beats, stem_beats))
        for mode, value in scorer.score_features(mix_features, chunk_features(stem16, EVAL_RATE)).items():
            self.adherence.setdefault(mode, []).append(value)

    def add_all(self, mix_features: list[torch.Tensor], stems16: list[np.ndarray], mix_beats: list[np.ndarray],
                embedders: list[Embedder], tracker: BeatTracker, scorer: AdherenceScorer) -> None:
        """Every example of the segment; the stems' beats are tracked in one batch."""
        stem_beats = tracker.track_many(stems16, EVAL_RATE)
        for args in zip(mix_features, stems16, mix_beats, stem_beats, strict=True):
            self.add(*args, embedders, scorer)

    def summary(self, reference: dict[str, np.ndarray], adherence_name: str, tracker_name: str) -> dict:
        out = {}
        for name, clips in self.embeddings.items():
            result = fad(reference[name], np.concatenate(clips))
            out[name] = {"value": result.value, "n_reference": result.n_reference, "n_eval": result.n_eval}
        for name, clips in self.embeddings.items():  # KAD on the same embeddings, after every FAD key
            k = kad(reference[name], np.concatenate(clips))
            out[kad_name(name)] = {"value": k.value, "n_reference": k.n_reference, "n_eval": k.n_eval,
                                   "bandwidth": k.bandwidth, "scale": KAD_SCALE}
        out[f"BA F1 ({tracker_name})"] = {"value": float(np.mean(self.beat_f1)), "n": len(self.beat_f1)}
        for mode, values in self.adherence.items():
            out[f"{adherence_name} {mode}"] = {"value": float(np.mean(values)), "n": len(values)}
        return out


def segment_bounds(lead_samples: int, segment_samples: int, n_segments: int) -> list[tuple[int, int]]:
    return [(lead_samples + k * segment_samples, lead_samples + (k + 1) * segment_samples) for k in range(n_segments)]
