"""KAD (kernel audio distance) to a fixed reference, for many bootstrap replicates at once.

``KernelDistance()(reference, evaluated)`` is ``liveband.metrics.kad.kad(...).value``. Its
``batch`` builds the per-clip kernel sums once (:class:`liveband.metrics.kad.ClipKernelSums`)
and evaluates every replicate's multiset of clips from them, so a replicate costs O(clips^2)
instead of a new kernel over all frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from liveband.metrics.kad import ClipKernelSums, kad


class KernelDistance:
    """Unbiased MMD^2 (scaled, as reported) between ``(N, D)`` embedding sets, with a batch path."""

    name = "KAD"

    def __call__(self, reference: np.ndarray, evaluated: np.ndarray) -> float:
        return kad(reference, evaluated).value

    def batch(self, reference: np.ndarray, examples: Sequence[np.ndarray], counts: np.ndarray) -> np.ndarray:
        """KAD of each replicate: row b of ``counts`` (B, n) says how often each example occurs."""
        sums = ClipKernelSums(reference, list(examples))
        clips = np.arange(len(examples))
        return np.array([sums.kad(np.repeat(clips, row.astype(np.int64))) for row in np.asarray(counts)])
