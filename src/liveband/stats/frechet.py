"""The Fréchet distance (FAD) to a fixed reference, for many bootstrap replicates at once.

``FrechetDistance()(reference, evaluated)`` is ``liveband.metrics.fad.fad(...).value``. Its
``batch`` computes the same number for every bootstrap replicate of the evaluated examples
without concatenating frames: per-example sums and second moments are taken once, and the
matrix square root becomes a symmetric eigenproblem,

    tr sqrt(S_r S_e) = sum sqrt(eig(R S_e R)),   R = S_r^(1/2) (symmetric),

which holds for covariance (positive semi-definite) matrices and costs one ``eigvalsh`` per
replicate instead of a general ``sqrtm``. Frames are whitened by R once, so each replicate
needs only weighted sums of per-example moments.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from liveband.errors import LiveBandError
from liveband.metrics.fad import fad, gaussian_fit

CHUNK = 32  # replicates per eigen batch
MOMENT_BYTES = 512 * 2**20  # above this, per-example (D, D) moments are not stored


class FrechetDistance:
    """FAD between Gaussian fits of ``(N, D)`` embedding sets, with a bootstrap batch path."""

    name = "FAD"

    def __call__(self, reference: np.ndarray, evaluated: np.ndarray) -> float:
        return fad(reference, evaluated).value

    def batch(self, reference: np.ndarray, examples: Sequence[np.ndarray], counts: np.ndarray) -> np.ndarray:
        """FAD of each replicate: row b of ``counts`` (B, n) says how often each example occurs."""
        mu_ref, sigma_ref = gaussian_fit(reference)
        root = psd_sqrt(sigma_ref)
        moments = _ExampleMoments(examples, root)
        out = np.empty(len(counts))
        for start in range(0, len(counts), CHUNK):
            c = np.asarray(counts[start:start + CHUNK], dtype=np.float64)
            mean, trace_cov, white_cov = moments.fit(c)
            root_trace = np.sqrt(np.clip(np.linalg.eigvalsh(white_cov), 0.0, None)).sum(axis=1)
            diff = mean - mu_ref
            value = np.einsum("bd,bd->b", diff, diff) + np.trace(sigma_ref) + trace_cov - 2.0 * root_trace
            out[start:start + CHUNK] = np.maximum(value, 0.0)
        return out


def psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a covariance matrix (negative round-off eigenvalues -> 0)."""
    values, vectors = np.linalg.eigh(sigma)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


class _ExampleMoments:
    """Per-example frame counts, sums and second moments about the pooled mean, for weighted fits."""

    def __init__(self, examples: Sequence[np.ndarray], root: np.ndarray):
        frames = np.concatenate([np.asarray(e, dtype=np.float64) for e in examples])  # (F, D)
        if frames.ndim != 2 or not np.isfinite(frames).all():
            raise LiveBandError(f"FAD: evaluated embeddings must be finite (F, D), got shape {frames.shape}")
        self.dim = frames.shape[1]
        if self.dim != len(root):
            raise LiveBandError(f"FAD: embedding dimensions differ ({len(root)} vs {self.dim})")
        self.lengths = np.array([len(e) for e in examples], dtype=np.float64)  # (n,)
        self.ids = np.repeat(np.arange(len(examples)), self.lengths.astype(int))  # frame -> example
        self.root = root
        self.centre = frames.mean(axis=0)
        centred = frames - self.centre
        self.white = centred @ root  # (F, D): cov(white) = R cov(x) R
        self.sums = _sum_by(self.ids, centred, len(examples))  # (n, D)
        self.squares = _sum_by(self.ids, centred**2, len(examples))  # (n, D)
        self.outer = None  # (n, D*D) per-example white second moments, if small enough
        if len(examples) * self.dim**2 * 8 <= MOMENT_BYTES:
            blocks = np.split(self.white, np.cumsum(self.lengths)[:-1].astype(int))
            self.outer = np.stack([(w.T @ w).ravel() for w in blocks])

    def fit(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For weights ``c`` (b, n): means (b, D), covariance traces (b,), whitened covariances (b, D, D)."""
        total = c @ self.lengths  # (b,) frames per replicate
        if np.any(total < 2):
            raise LiveBandError("FAD: a bootstrap replicate has fewer than 2 frames")
        mean_c = (c @ self.sums) / total[:, None]  # (b, D), about the pooled centre
        unbias = total / (total - 1.0)
        trace_cov = ((c @ self.squares) / total[:, None] - mean_c**2).sum(axis=1) * unbias
        mean_w = (mean_c @ self.root) * np.sqrt(unbias)[:, None]  # (b, D) whitened mean, pre-scaled
        white_cov = self._white_second(c)  # (b, D, D) summed second moments
        white_cov *= (unbias / total)[:, None, None]
        white_cov -= mean_w[:, :, None] * mean_w[:, None, :]
        return mean_c + self.centre, trace_cov, white_cov

    def _white_second(self, c: np.ndarray) -> np.ndarray:
        d = self.dim
        if self.outer is not None:
            return (c @ self.outer).reshape(len(c), d, d)
        weights = c[:, self.ids]  # (b, F)
        return np.stack([(self.white.T * w) @ self.white for w in weights])


def _sum_by(ids: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, values.shape[1]))
    np.add.at(out, ids, values)
    return out
