"""Scoring one segment of many examples: FAD and KAD per embedding backend (set level), beat-alignment
F1 and adherence per example, after the public baseline's front end (-18 LUFS, 16 kHz, mono).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from liveband.data.sampler import frame_levels_db
from liveband.metrics.beats import BeatTracker, beat_f1
from liveband.metrics.cocola import AdherenceScorer, chunk_features
from liveband.metrics.fad import Embedder, fad
from liveband.metrics.kad import KAD_SCALE, kad, kad_name
from liveband.metrics.loudness import prepare_for_metrics

EVAL_RATE = 16_000
ACTIVE = "Active frames (%)"  # descriptive: real stems have rests; neither direction is "better"


def active_percent(audio: np.ndarray, hop: int, silence_db: float) -> float:
    """Percentage of ``hop``-sample frames of (C, T) audio whose RMS level is above ``silence_db``
    dBFS (the training sampler's activity rule, data.sampler), before any loudness normalisation."""
    levels = frame_levels_db(np.asarray(audio, dtype=np.float32), hop)
    return float(100.0 * np.mean(levels > silence_db)) if len(levels) else float("nan")


def front_end(audio: np.ndarray, sr: int) -> np.ndarray:
    """(C, T) -> mono (T',) at 16 kHz, loudness-normalised; silence stays silence."""
    mono = np.asarray(audio, dtype=np.float64).mean(axis=0)
    if not np.any(np.abs(mono) > 1e-6):
        return np.zeros(int(round(len(mono) * EVAL_RATE / sr)), dtype=np.float32)
    return prepare_for_metrics(mono, sr).astype(np.float32)


@dataclass
class SegmentScores:
    """Accumulates one segment's per-example scores and embeddings (kept: intervals and paired
    tests are computed from them afterwards)."""

    embeddings: dict[str, list[np.ndarray]] = field(default_factory=dict)
    beat_f1: list[float] = field(default_factory=list)
    beat_f1_true: list[float] = field(default_factory=list)       # vs annotated beats; NaN: none
    adherence: dict[str, list[float]] = field(default_factory=dict)
    adherence_margin: dict[str, list[float]] = field(default_factory=dict)
    active: list[float] = field(default_factory=list)                # % of frames above the silence level

    def add(self, mix: dict[str, torch.Tensor], stem16: np.ndarray, mix_beats: np.ndarray, stem_beats: np.ndarray,
            embedders: list[Embedder], scorer: AdherenceScorer, true_beats: np.ndarray | None = None,
            offsong: dict[str, torch.Tensor] | None = None) -> None:
        """One example: ``mix`` is the mix segment's adherence embeddings (``scorer.embed_modes`` of
        its chunk features, computed once in ``eval_reference``); ``offsong`` those of another
        song's mix: the margin is matched minus off-song."""
        for emb in embedders:
            self.embeddings.setdefault(emb.name, []).append(emb.embed(stem16, EVAL_RATE))
        self.beat_f1.append(beat_f1(mix_beats, stem_beats))
        self.beat_f1_true.append(np.nan if true_beats is None else beat_f1(true_beats, stem_beats))
        stem = scorer.embed_modes(chunk_features(stem16, EVAL_RATE))
        matched = scorer.score_embedded(mix, stem)
        off = scorer.score_embedded(offsong, stem) if offsong is not None else {}
        for mode, value in matched.items():
            self.adherence.setdefault(mode, []).append(value)
            self.adherence_margin.setdefault(mode, []).append(value - off[mode] if mode in off else np.nan)

    def add_all(self, mix_features: list[torch.Tensor], stems16: list[np.ndarray], mix_beats: list[np.ndarray],
                embedders: list[Embedder], tracker: BeatTracker, scorer: AdherenceScorer,
                true_beats: list[np.ndarray | None] | None = None,
                offsong: list[int | None] | None = None, active: list[float] | None = None) -> None:
        """Every example of the segment: ``mix_features`` are the mixes' chunk features
        (:func:`~liveband.metrics.cocola.chunk_features`), embedded once here; ``offsong[i]`` the
        index of the mix example i is also scored against; ``active[i]`` its :func:`active_percent`.
        The stems' beats are tracked in one batch."""
        n = len(stems16)
        mixes = [scorer.embed_modes(f) for f in mix_features]
        stem_beats = tracker.track_many(stems16, EVAL_RATE)
        for i, args in enumerate(zip(mixes, stems16, mix_beats, stem_beats, strict=True)):
            j = (offsong or [None] * n)[i]
            self.add(*args, embedders, scorer, (true_beats or [None] * n)[i], None if j is None else mixes[j])
        self.active.extend(active if active is not None else [np.nan] * n)

    def columns(self, adherence_name: str, tracker_name: str) -> dict[str, list[float]]:
        """Per-example values, one list per metric, named as in :meth:`summary`."""
        out = {f"BA F1 ({tracker_name})": self.beat_f1, f"BA F1 true beats ({tracker_name})": self.beat_f1_true}
        if self.active:
            out[ACTIVE] = self.active
        for mode, values in self.adherence.items():
            out[f"{adherence_name} {mode}"] = values
            out[f"{adherence_name} {mode} margin"] = self.adherence_margin.get(mode, [np.nan] * len(values))
        return {k: [float(x) for x in v] for k, v in out.items()}

    def summary(self, reference: dict[str, np.ndarray], adherence_name: str, tracker_name: str) -> dict:
        out = {}
        for name, clips in self.embeddings.items():
            result = fad(reference[name], np.concatenate(clips))
            out[name] = {"value": result.value, "n_reference": result.n_reference, "n_eval": result.n_eval}
        for name, clips in self.embeddings.items():  # KAD on the same embeddings, after every FAD key
            k = kad(reference[name], np.concatenate(clips))
            out[kad_name(name)] = {"value": k.value, "n_reference": k.n_reference, "n_eval": k.n_eval,
                                   "bandwidth": k.bandwidth, "scale": KAD_SCALE}
        for key, values in self.columns(adherence_name, tracker_name).items():
            values = np.asarray(values, dtype=np.float64)
            if np.isfinite(values).any():
                out[key] = {"value": float(np.nanmean(values)), "n": int(np.isfinite(values).sum())}
        return out


def segment_bounds(lead_samples: int, segment_samples: int, n_segments: int) -> list[tuple[int, int]]:
    return [(lead_samples + k * segment_samples, lead_samples + (k + 1) * segment_samples) for k in range(n_segments)]


def window(evaluation, audio) -> tuple[int, list[tuple[int, int]]]:
    """Total samples evaluated per example, and the segments' (start, end) samples, from the
    ``evaluation`` and ``audio`` params sections."""
    bounds = segment_bounds(evaluation.lead_frames * audio.hop,
                            int(round(evaluation.segment_seconds * audio.sample_rate)), evaluation.n_segments)
    return bounds[-1][1], bounds
