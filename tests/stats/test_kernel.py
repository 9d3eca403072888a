"""The KAD bootstrap path equals KAD recomputed on the concatenated resampled clips."""

import numpy as np
import pytest

from liveband.metrics.kad import kad
from liveband.stats.kernel import KernelDistance


def test_batch_equals_kad_of_each_resampled_set():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(120, 6))
    clips = [rng.normal(0.3 * (i % 3), 1.0, size=(5 + i % 4, 6)) for i in range(12)]
    counts = rng.multinomial(len(clips), np.full(len(clips), 1 / len(clips)), size=5)
    metric = KernelDistance()
    batch = metric.batch(reference, clips, counts)
    for row, value in zip(counts, batch, strict=True):
        frames = np.concatenate([c for c, k in zip(clips, row) for _ in range(k)])
        # the same bandwidth (median rule on the reference) and every frame occurrence as one sample
        assert value == pytest.approx(kad(reference, frames).value, rel=1e-6, abs=1e-9)
    assert metric.batch(reference, clips, np.ones((1, len(clips))))[0] == pytest.approx(
        metric(reference, np.concatenate(clips)), rel=1e-6)
    shifted = [c + 2.0 for c in clips]
    assert metric(reference, np.concatenate(shifted)) > 10 * abs(metric(reference, np.concatenate(clips)))
