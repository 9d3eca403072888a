"""Clip-level bootstrap of set-level metrics (FAD, KAD, ...) against a fixed reference set.

A set-level metric is any callable ``metric(reference, evaluated) -> float`` on ``(N, D)``
embedding frames. Frames within a clip are correlated, so the resampling unit is the example
(clip): a replicate draws example ids with replacement, concatenates their frames and
recomputes the metric against the unchanged reference. One draw matrix serves every system:
comparisons of systems (or of one system's two segments) are paired by construction.

A metric may also offer ``batch(reference, examples, counts) -> (B,)``: the metric for each
row of ``counts`` (B, n_examples), the multiplicity of each example in a replicate. Then
per-example work is done once (see ``liveband.stats.frechet``); otherwise each replicate's
frames are concatenated and the metric is called B times. Intervals are percentile intervals
of the replicates centred on the full-set value (:func:`centre_replicates`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from liveband.errors import LiveBandError
from liveband.stats.intervals import Interval, percentile_interval
from liveband.stats.paired import Comparison, bootstrap_comparison

SetMetric = Callable[[np.ndarray, np.ndarray], float]


def example_draws(n_examples: int, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n_examples)`` example indices drawn with replacement, seeded."""
    if n_examples < 1 or n_boot < 1:
        raise LiveBandError(f"bootstrap: need n_examples >= 1 and n_boot >= 1 (got {n_examples}, {n_boot})")
    return np.random.default_rng(seed).integers(0, n_examples, size=(n_boot, n_examples))


def draw_counts(draws: np.ndarray, n_examples: int) -> np.ndarray:
    """Multiplicity of each example in each replicate: ``(B, n_examples)`` float64."""
    counts = np.zeros((len(draws), n_examples))
    rows = np.repeat(np.arange(len(draws)), draws.shape[1])
    np.add.at(counts, (rows, draws.ravel()), 1.0)
    return counts


def split_examples(frames: np.ndarray, offsets: np.ndarray, what: str = "embeddings") -> list[np.ndarray]:
    """Per-example frame blocks ``frames[offsets[i]:offsets[i + 1]]``; offsets are checked."""
    frames, offsets = np.asarray(frames), np.asarray(offsets)
    if frames.ndim != 2:
        raise LiveBandError(f"{what}: frames must be (total_frames, D), got shape {frames.shape}")
    if (offsets.ndim != 1 or len(offsets) < 2 or offsets[0] != 0 or offsets[-1] != len(frames)
            or np.any(np.diff(offsets) < 0)):
        raise LiveBandError(f"{what}: offsets must rise from 0 to {len(frames)} (got {offsets.tolist()[:6]}...)")
    return [frames[a:b] for a, b in zip(offsets[:-1], offsets[1:])]


def replicate_values(metric: SetMetric, reference: np.ndarray, examples: Sequence[np.ndarray],
                     draws: np.ndarray) -> tuple[float, np.ndarray]:
    """The metric on all examples (the point estimate) and on each replicate (row of ``draws``)."""
    if draws.shape[1] != len(examples):
        raise LiveBandError(f"bootstrap: draws are over {draws.shape[1]} examples, the set has {len(examples)}")
    if hasattr(metric, "batch"):
        counts = np.vstack([np.ones((1, len(examples))), draw_counts(draws, len(examples))])
        values = np.asarray(metric.batch(reference, examples, counts), dtype=np.float64)
        return float(values[0]), values[1:]
    reps = np.array([metric(reference, np.concatenate([examples[i] for i in row])) for row in draws])
    return full_value(metric, reference, examples), reps


def full_value(metric: SetMetric, reference: np.ndarray, examples: Sequence[np.ndarray]) -> float:
    """The metric on every example once (the point estimate)."""
    if hasattr(metric, "batch"):
        return float(metric.batch(reference, examples, np.ones((1, len(examples))))[0])
    return float(metric(reference, np.concatenate(list(examples))))


def centre_replicates(estimate: float, replicates: np.ndarray) -> np.ndarray:
    """Replicates shifted so that their mean is ``estimate``.

    A resampled set holds only about 63% distinct clips, which inflates a biased metric such
    as FAD on every replicate (on synthetic data by more than its spread, so the raw percentile
    interval can miss the full-set value). The shift removes that bootstrap bias estimate
    (``mean(replicates) - estimate``) and keeps the spread; for paired differences the two
    biases mostly cancel and the shift is small.
    """
    reps = np.asarray(replicates, dtype=np.float64)
    return reps - (np.nanmean(reps) - estimate)


def set_metric_interval(metric: SetMetric, reference: np.ndarray, frames: np.ndarray, offsets: np.ndarray,
                        n_boot: int = 200, seed: int = 0, level: float = 0.95) -> Interval:
    """Point value and percentile CI (of the centred replicates) of one system's set-level metric."""
    examples = split_examples(frames, offsets)
    point, reps = replicate_values(metric, reference, examples, example_draws(len(examples), n_boot, seed))
    return percentile_interval(point, centre_replicates(point, reps), level, len(examples))


def paired_set_difference(metric: SetMetric, reference: np.ndarray, a: tuple[np.ndarray, np.ndarray],
                          b: tuple[np.ndarray, np.ndarray], n_boot: int = 200, seed: int = 0,
                          level: float = 0.95, p_method: str = "normal") -> Comparison:
    """``metric(A) - metric(B)`` with A and B resampled on the same example ids.

    ``a`` and ``b`` are ``(frames, offsets)`` over the same examples in the same order (two
    systems, or segment 1 and segment 0 of one system for its drift).
    """
    ex_a, ex_b = split_examples(*a, what="embeddings A"), split_examples(*b, what="embeddings B")
    if len(ex_a) != len(ex_b):
        raise LiveBandError(f"paired bootstrap: A has {len(ex_a)} examples, B has {len(ex_b)}")
    draws = example_draws(len(ex_a), n_boot, seed)
    (point_a, reps_a), (point_b, reps_b) = (replicate_values(metric, reference, ex, draws) for ex in (ex_a, ex_b))
    point = point_a - point_b
    return bootstrap_comparison(point, centre_replicates(point, reps_a - reps_b), len(ex_a), level, p_method)
