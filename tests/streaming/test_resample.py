"""The streaming resampler equals the offline one (scipy's resample_poly) for any chunking."""

import numpy as np
import pytest

from liveband.data.audio_io import resample
from liveband.streaming.resample import StreamResampler

TOLERANCE = 1e-5  # float32 samples of unit scale; measured ~5e-7 (summation order, float32 taps)


def stream(x: np.ndarray, sr_from: int, sr_to: int, sizes) -> np.ndarray:
    resampler, out, i, k = StreamResampler(sr_from, sr_to, x.shape[0]), [], 0, 0
    while i < x.shape[-1]:
        n = sizes[k % len(sizes)]
        out.append(resampler.push(x[:, i:i + n]))
        i, k = i + n, k + 1
    out.append(resampler.flush())
    return np.concatenate(out, axis=1)


@pytest.mark.parametrize("sr_from", [44100, 48000, 16000, 96000])
@pytest.mark.parametrize("sizes", [[1], [7], [1000], [5000, 3, 777], [100_000]])
def test_chunked_equals_whole(sr_from, sizes):
    n = 3001 if sizes == [1] else 12_345
    x = (0.5 * np.random.default_rng(sr_from).standard_normal((2, n))).astype(np.float32)
    whole = resample(x, sr_from, 22050)
    chunked = stream(x, sr_from, 22050, sizes)
    assert chunked.shape == whole.shape == (2, -(-n * 22050 // sr_from))
    assert np.abs(chunked - whole).max() < TOLERANCE
    assert np.abs(whole).max() > 0.5  # a real signal, not silence


def test_memory_is_one_filter_length():
    resampler = StreamResampler(44100, 22050, 1)
    for _ in range(200):
        resampler.push(np.ones((1, 4410), np.float32))
    assert resampler.buffer.shape[-1] <= resampler.taps_per_phase + 2
    assert resampler.outputs == 200 * 2205 - resampler.delay  # outputs wait only for the filter's half


def test_same_rate_passes_blocks_through():
    x = np.arange(10, dtype=np.float32)[None]
    resampler = StreamResampler(22050, 22050, 1)
    assert resampler.push(x) is x and resampler.flush().shape == (1, 0)
