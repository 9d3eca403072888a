"""Kernel Audio Distance (KAD): the unbiased MMD^2 between two embedding sets.

KAD compares the same frame embeddings as FAD (:mod:`liveband.metrics.fad`), but as an
unbiased estimate of the squared maximum mean discrepancy under a characteristic kernel, so
it assumes no Gaussian shape and has no small-sample bias: two samples of one distribution
score 0 in expectation (a single estimate can be slightly negative).

Recipe (fixed here, so every number in a table is measured the same way):

- kernel: Gaussian RBF ``k(x, y) = exp(-|x - y|^2 / (2 sigma^2))``;
- bandwidth ``sigma``: the median pairwise Euclidean distance between reference frames (on at
  most ``BANDWIDTH_FRAMES`` of them, drawn with seed 0). It depends on the reference set only,
  so every system evaluated against one reference is measured with the same kernel;
- reported value: ``KAD_SCALE`` (x1000) times the MMD^2 estimate, under the name
  ``KAD-<backend>`` (e.g. ``KAD-logmel`` beside ``FAD-logmel``);
- cost: at most ``MAX_FRAMES`` frames per side enter the sums (a random subset without
  replacement, seed 0, when a side has more; per clip, pro rata, for :class:`ClipKernelSums`),
  and kernel sums run in blocks of ``BLOCK_ROWS`` rows, so ~100k frames cost a bounded
  ``MAX_FRAMES x 2 MAX_FRAMES`` kernel evaluations and ``BLOCK_ROWS x MAX_FRAMES`` memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import pdist

from liveband.errors import LiveBandError

KAD_SCALE = 1000.0  # reported value = KAD_SCALE * MMD^2
MAX_FRAMES = 5_000  # frames per side entering the kernel sums (~7 s for 100k x 100k frames on 1 core)
BANDWIDTH_FRAMES = 2_000  # reference frames the median distance is taken over
BLOCK_ROWS = 1_024  # kernel rows held in memory at once


@dataclass(frozen=True)
class KadResult:
    value: float  # KAD_SCALE * unbiased MMD^2 (can be slightly negative)
    bandwidth: float  # sigma of the RBF kernel (median reference distance)
    n_reference: int  # reference frames available
    n_eval: int  # evaluated frames available
    n_used: tuple[int, int]  # (reference, evaluated) frames that entered the sums


def kad_name(fad_name: str) -> str:
    """``FAD-logmel`` -> ``KAD-logmel``: the KAD column of an embedding backend."""
    return "KAD-" + fad_name.removeprefix("FAD-")


def subsample(frames: np.ndarray, max_frames: int, seed: int = 0) -> np.ndarray:
    """At most ``max_frames`` rows of ``frames``, drawn without replacement (order kept)."""
    if len(frames) <= max_frames:
        return frames
    keep = np.sort(np.random.default_rng(seed).choice(len(frames), max_frames, replace=False))
    return frames[keep]


def median_bandwidth(reference: np.ndarray, max_frames: int = BANDWIDTH_FRAMES, seed: int = 0) -> float:
    """The median pairwise Euclidean distance between reference frames (the kernel's sigma)."""
    ref = subsample(_as_embeddings(reference, "reference"), max_frames, seed)
    sigma = float(np.median(pdist(ref)))
    if not sigma > 0:
        raise LiveBandError("KAD: reference embeddings are all identical (median distance 0)")
    return sigma


def kernel_row_sums(x: np.ndarray, y: np.ndarray, bandwidth: float, block: int = BLOCK_ROWS) -> np.ndarray:
    """``(len(x),)``: for each row of ``x``, the sum of ``k(x_i, y_j)`` over all rows of ``y``."""
    y_sq = np.einsum("ij,ij->i", y, y)
    out = np.empty(len(x))
    for start in range(0, len(x), block):
        xb = x[start:start + block]
        d2 = np.einsum("ij,ij->i", xb, xb)[:, None] + y_sq[None, :] - 2.0 * (xb @ y.T)  # (block, len(y))
        out[start:start + block] = np.exp(-np.maximum(d2, 0.0) / (2.0 * bandwidth**2)).sum(axis=1)
    return out


class ClipKernelSums:
    """Kernel sums of evaluated clips against each other and the reference, kept per clip, so
    KAD of any multiset of the clips (all of them, or a bootstrap resample) costs O(clips^2).

    Within a multiset, every frame occurrence is one sample: a clip drawn twice contributes
    its frames twice, and only a frame's pairing with its own occurrence is left out, as the
    unbiased estimator does for any sample.
    """

    def __init__(self, reference: np.ndarray, clips: list[np.ndarray], bandwidth: float | None = None,
                 max_frames: int = MAX_FRAMES, seed: int = 0):
        ref = _as_embeddings(reference, "reference")
        clips = [_as_embeddings(c, f"evaluated clip {i}", min_rows=1) for i, c in enumerate(clips)]
        if not clips:
            raise LiveBandError("KAD: no evaluated clips")
        if len({c.shape[1] for c in clips} | {ref.shape[1]}) != 1:
            raise LiveBandError("KAD: embedding dimensions differ between reference and evaluated clips")
        self.bandwidth = median_bandwidth(ref, seed=seed) if bandwidth is None else float(bandwidth)
        self.n_reference, self.n_eval = len(ref), sum(len(c) for c in clips)
        ref = subsample(ref, max_frames, seed)
        per_clip = max(1, max_frames // len(clips))
        used = [subsample(c, per_clip, seed + i) for i, c in enumerate(clips)]
        frames = np.concatenate(used)  # (N, D)
        starts = np.cumsum([0] + [len(c) for c in used[:-1]])
        self.frames = np.array([len(c) for c in used], dtype=np.float64)  # (clips,)
        self.within = _clip_block_sums(frames, starts, self.bandwidth)  # (clips, clips)
        self.to_reference = np.add.reduceat(kernel_row_sums(frames, ref, self.bandwidth), starts)  # (clips,)
        m = len(ref)
        self.n_ref_used = m
        self.reference_term = (kernel_row_sums(ref, ref, self.bandwidth).sum() - m) / (m * (m - 1))

    def kad(self, clips: np.ndarray | None = None, scale: float = KAD_SCALE) -> float:
        """``scale`` x unbiased MMD^2 of the reference vs the multiset ``clips`` (indices; all by default)."""
        idx = np.arange(len(self.frames)) if clips is None else np.asarray(clips)
        n = self.frames[idx].sum()
        if n < 2:
            raise LiveBandError("KAD: need at least 2 evaluated frames")
        within = self.within[np.ix_(idx, idx)].sum() - n
        cross = self.to_reference[idx].sum()
        return float(scale * (self.reference_term + within / (n * (n - 1)) - 2.0 * cross / (self.n_ref_used * n)))


def kad(reference: np.ndarray, evaluated: np.ndarray, bandwidth: float | None = None,
        scale: float = KAD_SCALE, max_frames: int = MAX_FRAMES, seed: int = 0) -> KadResult:
    """KAD between two ``(N, D)`` embedding sets (see the module docstring for the recipe)."""
    sums = ClipKernelSums(reference, [evaluated], bandwidth, max_frames, seed)
    return KadResult(value=sums.kad(scale=scale), bandwidth=sums.bandwidth, n_reference=sums.n_reference,
                     n_eval=sums.n_eval, n_used=(sums.n_ref_used, int(sums.frames.sum())))


def _clip_block_sums(frames: np.ndarray, starts: np.ndarray, bandwidth: float) -> np.ndarray:
    """``(clips, clips)`` sums of k over every pair of frames from clip a and clip b."""
    per_row = np.stack([kernel_row_sums(frames, frames[a:b], bandwidth)
                        for a, b in zip(starts, [*starts[1:], len(frames)])], axis=1)  # (N, clips)
    return np.add.reduceat(per_row, starts, axis=0)


def _as_embeddings(x: np.ndarray, what: str, min_rows: int = 2) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < min_rows:
        raise LiveBandError(f"KAD: {what} embeddings must be (N>={min_rows}, D), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise LiveBandError(f"KAD: {what} embeddings contain NaN or inf")
    return x
