"""The fast running median used by HPSS equals scipy's median filter."""

import numpy as np
import pytest
from scipy import ndimage

from liveband.metrics.spectral import median_filter_1d


@pytest.mark.parametrize("shape", [(40, 1), (7, 501), (513, 33), (33, 513)])
@pytest.mark.parametrize("kernel", [1, 3, 31])
@pytest.mark.parametrize("axis", [0, 1])
def test_equals_scipy_reflect_median(shape, kernel, axis):
    # lines at least kernel // 2 long: scipy reads past shorter ones (the hand-made case below)
    shape = shape if shape[axis] > kernel // 2 else shape[::-1]
    x = np.random.default_rng(sum(shape) + kernel).random(shape)
    size = (kernel, 1) if axis == 0 else (1, kernel)
    expected = ndimage.median_filter(x, size=size, mode="reflect")
    assert np.array_equal(median_filter_1d(x, kernel, axis), expected)
    assert np.array_equal(median_filter_1d(x.astype(np.float32), kernel, axis),
                          ndimage.median_filter(x.astype(np.float32), size=size, mode="reflect"))


def test_short_lines_mirror_repeatedly():
    # [0, 1] mirrored with the edge repeated: ... 1 0 0 1 | 0 1 | 1 0 0 1 ...
    assert median_filter_1d(np.array([[0.0, 1.0]]), 5, axis=1).tolist() == [[1.0, 0.0]]
    assert median_filter_1d(np.array([[0.0, 1.0, 5.0]]), 31, axis=1).tolist() == [[1.0, 1.0, 1.0]]


def test_rejects_even_kernels_and_other_ranks():
    with pytest.raises(ValueError, match="odd"):
        median_filter_1d(np.zeros((3, 3)), 4, axis=1)
    with pytest.raises(ValueError, match="2-D"):
        median_filter_1d(np.zeros(3), 3, axis=0)
