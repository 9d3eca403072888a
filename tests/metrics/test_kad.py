import numpy as np
import pytest

from liveband.errors import LiveBandError
from liveband.metrics.fad import fad
from liveband.metrics.kad import ClipKernelSums, kad, kad_name, median_bandwidth


def _naive_kad(x, y, bandwidth):
    """The unbiased MMD^2 (x1000) written out from its definition, with full kernel matrices."""
    def gram(a, b):
        return np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * bandwidth**2))

    kxx, kyy, kxy = gram(x, x), gram(y, y), gram(x, y)
    m, n = len(x), len(y)
    return 1000 * ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                   - 2 * kxy.mean())


def test_matches_the_estimator_definition():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((120, 6)), rng.standard_normal((90, 6)) + 0.4
    result = kad(x, y)
    assert result.bandwidth == pytest.approx(median_bandwidth(x))
    assert result.value == pytest.approx(_naive_kad(x, y, result.bandwidth), rel=1e-9)
    assert (result.n_reference, result.n_eval, result.n_used) == (120, 90, (120, 90))


def test_symmetric_for_a_fixed_kernel():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((80, 5)), rng.standard_normal((60, 5)) * 1.5
    assert kad(x, y, bandwidth=2.0).value == pytest.approx(kad(y, x, bandwidth=2.0).value, rel=1e-12)


def test_zero_in_expectation_for_one_distribution_and_can_be_negative():
    rng = np.random.default_rng(2)
    ref = rng.standard_normal((200, 8))
    values = np.array([kad(ref, rng.standard_normal((100, 8))).value for _ in range(40)])
    assert abs(values.mean()) < 3 * values.std(ddof=1) / np.sqrt(len(values))
    assert (values < 0).any()
    assert values.std() < 0.1 * kad(ref, rng.standard_normal((100, 8)) + 1.0).value


def test_grows_with_a_mean_shift():
    rng = np.random.default_rng(3)
    ref, ev = rng.standard_normal((300, 8)), rng.standard_normal((300, 8))
    values = [kad(ref, ev + shift).value for shift in (0.0, 0.25, 0.5, 1.0, 2.0)]
    assert values == sorted(values) and values[1] > 0


def test_small_sample_bias_far_below_fads():
    """Two disjoint small sets of one distribution: FAD is biased upwards by a sizeable share of
    what a real difference (a 0.5 SD mean shift) gives; KAD is not."""
    rng = np.random.default_rng(4)
    same_fad, same_kad, shift_fad, shift_kad = [], [], [], []
    for _ in range(20):
        ref, a, b = (rng.standard_normal((60, 16)) for _ in range(3))
        same_fad.append(fad(ref, a).value)
        same_kad.append(kad(ref, a).value)
        shift_fad.append(fad(ref, b + 0.5).value)
        shift_kad.append(kad(ref, b + 0.5).value)
    fad_bias = np.mean(same_fad) / np.mean(shift_fad)
    kad_bias = np.mean(same_kad) / np.mean(shift_kad)
    assert fad_bias > 0.3
    assert abs(kad_bias) < 0.1


def test_clip_sums_give_kad_of_any_multiset_of_clips():
    rng = np.random.default_rng(5)
    ref = rng.standard_normal((100, 4))
    clips = [rng.standard_normal((n, 4)) + 0.3 for n in (7, 12, 5, 9)]
    sums = ClipKernelSums(ref, clips)
    assert sums.kad() == pytest.approx(kad(ref, np.concatenate(clips)).value, rel=1e-9)
    resample = np.array([1, 1, 3, 0])  # a bootstrap draw: clip 1 twice, clip 2 left out
    frames = np.concatenate([clips[i] for i in resample])
    assert sums.kad(resample) == pytest.approx(_naive_kad(ref, frames, sums.bandwidth), rel=1e-9)


def test_frames_are_capped_with_a_fixed_seed():
    rng = np.random.default_rng(6)
    ref, ev = rng.standard_normal((3000, 4)), rng.standard_normal((2500, 4)) + 0.5
    capped = kad(ref, ev, max_frames=400)
    assert capped.n_used == (400, 400) and (capped.n_reference, capped.n_eval) == (3000, 2500)
    assert capped.value == kad(ref, ev, max_frames=400).value  # deterministic
    subsets = [kad(ref, ev, max_frames=400, seed=seed).value for seed in range(10)]
    assert np.mean(subsets) == pytest.approx(kad(ref, ev).value, rel=0.15)  # unbiased on subsets too


def test_names_and_bad_input():
    assert kad_name("FAD-logmel") == "KAD-logmel" and kad_name("FAD-CREPE") == "KAD-CREPE"
    x = np.zeros((10, 3))
    with pytest.raises(LiveBandError, match="identical"):
        kad(x, np.ones((10, 3)))
    with pytest.raises(LiveBandError, match="dimensions differ"):
        kad(np.random.default_rng(0).standard_normal((10, 3)), np.ones((10, 4)))
    with pytest.raises(LiveBandError, match="NaN"):
        kad(np.random.default_rng(0).standard_normal((10, 3)), np.full((10, 3), np.nan))
