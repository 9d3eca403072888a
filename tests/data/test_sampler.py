import numpy as np

from liveband.data.sampler import frame_levels_db, sample_mix_subsets, valid_crop_starts


def test_subsets_are_nonempty_distinct_and_exclude_the_target():
    rng = np.random.default_rng(0)
    subsets = sample_mix_subsets(5, target=2, n_subsets=6, rng=rng)
    assert len(subsets) == 6 and len(set(subsets)) == 6
    assert all(s and 2 not in s for s in subsets)


def test_subsets_stop_at_what_exists():
    assert len(sample_mix_subsets(3, 0, 10, np.random.default_rng(0))) == 3  # {1},{2},{1,2}
    assert sample_mix_subsets(1, 0, 4, np.random.default_rng(0)) == []


def test_frame_levels():
    audio = np.concatenate([np.zeros(400), 0.5 * np.ones(400)])[None]
    levels = frame_levels_db(audio, 100)
    assert levels.shape == (8,)
    assert (levels[:4] < -100).all() and np.allclose(levels[4:], 20 * np.log10(0.5), atol=1e-4)


def test_crops_need_target_and_mix_active_for_half_the_crop():
    target = np.array([-90] * 4 + [-20] * 8, dtype=float)
    mix = np.full(12, -20.0)
    starts = valid_crop_starts(target, mix, crop_frames=4, silence_db=-60, min_active_fraction=0.5)
    assert starts.tolist() == [2, 3, 4, 5, 6, 7, 8]
    assert valid_crop_starts(target, np.full(12, -80.0), 4).size == 0
    assert valid_crop_starts(target, mix, crop_frames=20).size == 0
