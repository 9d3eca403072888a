import importlib.metadata

import numpy as np
import pytest

from liveband.errors import LiveBandError
from liveband.metrics.beats import beat_alignment_f1, beat_f1, make_beat_tracker, tracker_accuracy


def _madmom_tracker():
    try:
        return make_beat_tracker("madmom")
    except LiveBandError as exc:
        pytest.skip(f"madmom unavailable: {exc}")


def test_identical_beats_score_one_and_shifts_beyond_70ms_score_lower():
    beats = np.arange(0.5, 10.0, 0.5)
    assert beat_f1(beats, beats) == 1.0
    assert beat_f1(beats, beats + 0.05) == 1.0  # inside the 70 ms window
    assert beat_f1(beats, beats + 0.1) < 0.1  # outside it
    half = beats.copy()
    half[::2] += 0.2
    assert 0.4 < beat_f1(beats, half) < 0.6


def test_empty_beat_lists_follow_madmoms_convention():
    assert beat_f1([], []) == 1.0
    assert beat_f1([1.0, 2.0], []) == 0.0
    assert beat_f1([], [1.0, 2.0]) == 0.0


def test_trimming_is_off_by_default_and_optional():
    ref = np.arange(0.5, 10.0, 0.5)
    est = np.concatenate([ref[ref < 5.0] + 0.2, ref[ref >= 5.0]])  # wrong only in the first 5 s
    assert beat_f1(ref, est) < 0.6
    assert beat_f1(ref, est, trim_seconds=5.0) == 1.0


def test_madmom_imports_through_the_shim():
    from liveband.metrics._madmom import import_madmom

    try:
        madmom = import_madmom()
    except LiveBandError as exc:
        pytest.skip(f"madmom unavailable: {exc}")
    dists = importlib.metadata.packages_distributions()["madmom"]
    assert madmom.__version__ == importlib.metadata.version(dists[0])


def test_madmom_tracks_a_120_bpm_click_track(click_track):
    tracker = _madmom_tracker()
    audio, beats = click_track(120, 12.0, 44_100)
    assert tracker_accuracy(audio, beats, 44_100, tracker) > 0.9
    # Works from 16 kHz input too (resampled to the models' 44.1 kHz).
    audio16, _ = click_track(120, 12.0, 16_000)
    assert tracker_accuracy(audio16, beats, 16_000, tracker) > 0.9


def test_beat_alignment_prefers_an_in_time_stem(click_track):
    tracker = _madmom_tracker()
    mix, _ = click_track(120, 10.0, 16_000, offset=0.5, seed=1)
    in_time, _ = click_track(120, 10.0, 16_000, offset=0.5, seed=2)
    off_beat, _ = click_track(120, 10.0, 16_000, offset=0.75, seed=2)  # on the off-beats
    good = beat_alignment_f1(mix, in_time, 16_000, tracker)
    bad = beat_alignment_f1(mix, off_beat, 16_000, tracker)
    assert good > 0.9 and bad < 0.3
    assert tracker.track(np.zeros(16_000, np.float32), 16_000).size == 0


def test_beat_this_refuses_an_unconfigured_checkpoint(tmp_path):
    with pytest.raises(LiveBandError) as err:
        make_beat_tracker("beat_this")
    assert str(err.value).startswith("metrics.beats.beat_this_checkpoint: not configured")
    with pytest.raises(LiveBandError, match="checkpoint not found"):
        make_beat_tracker("beat_this", tmp_path / "none.ckpt")
    with pytest.raises(LiveBandError, match="unknown beat tracker"):
        make_beat_tracker("librosa")


def test_batched_networks_equal_madmoms_own_evaluation(click_track):
    """The batched ensemble gives madmom's activations, per clip, whatever the batch holds."""
    tracker = _madmom_tracker()
    from madmom.features.beats import RNNBeatProcessor

    processor = RNNBeatProcessor()
    rng = np.random.default_rng(0)
    clips = [click_track(100 + 20 * k, 4.0, 44_100, seed=k)[0] + 0.01 * rng.standard_normal(4 * 44_100)
             for k in range(3)]
    clips.append(clips[0][: 3 * 44_100])                       # another length: its own batch
    clips.append(np.zeros(44_100))                             # silence: no activation, no beats
    acts = tracker.activations(clips, 44_100)
    assert acts[-1] is None
    for clip, act in zip(clips[:-1], acts[:-1]):
        expected = processor(clip.astype(np.float32))
        assert act.shape == expected.shape
        assert np.abs(act - expected).max() < 1e-5
    beats = tracker.track_many(clips, 44_100)
    assert [b.tolist() for b in beats] == [tracker.track(c, 44_100).tolist() for c in clips]
    assert beats[-1].size == 0
