import numpy as np

from liveband.stats.multiple import holm


def test_holm_matches_hand_computation():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> max(0.06, 0.04) = 0.06
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_keeps_monotone():
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])


def test_holm_leaves_nan_out_of_the_family():
    out = holm([0.01, np.nan, 0.04])  # a family of two: 0.01*2, then max(0.02, 0.04*1)
    np.testing.assert_allclose(out[[0, 2]], [0.02, 0.04])
    assert np.isnan(out[1])
