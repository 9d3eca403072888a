import numpy as np
import pytest

from liveband.errors import LiveBandError

SR = 44_100


@pytest.fixture(scope="module")
def madmom_beats():
    """madmom's RNNBeatProcessor and our BeatFeatures read from its pre-processor."""
    from liveband.metrics._madmom import import_madmom

    try:
        import_madmom()
    except LiveBandError as exc:
        pytest.skip(f"madmom unavailable: {exc}")
    from madmom.features.beats import RNNBeatProcessor

    from liveband.metrics.beat_features import BeatFeatures

    processor = RNNBeatProcessor()
    return processor, BeatFeatures.from_processor(processor.processors[0])


def _clips(click_track, sine):
    rng = np.random.default_rng(3)
    clicks, _ = click_track(120, 3.0, SR)
    return {
        "one sample": np.float32([0.4]),
        "shorter than the hop": rng.uniform(-0.5, 0.5, 300).astype(np.float32),
        "one hop": rng.uniform(-0.5, 0.5, 441).astype(np.float32),
        "shorter than the smallest frame": rng.uniform(-0.5, 0.5, 1023).astype(np.float32),
        "odd length": rng.uniform(-0.5, 0.5, 4097 + 441 * 7 + 13).astype(np.float32),
        "loud square wave": np.sign(sine(3.0, 1.5, SR) + 1e-3).astype(np.float32) * np.float32(0.99),
        "quiet noise": (1e-5 * rng.standard_normal(SR + 17)).astype(np.float32),
        "click track": clicks,
        "silence around a sine": np.concatenate([np.zeros(SR // 2, np.float32), sine(440.0, 0.7, SR),
                                                 np.zeros(SR // 3, np.float32)]),
        "float64 input": 0.2 * rng.standard_normal(SR // 2 + 5),
    }


def test_features_equal_madmoms_chain(madmom_beats, click_track, sine):
    processor, features = madmom_beats
    for name, clip in _clips(click_track, sine).items():
        expected = processor.processors[0](clip)
        got = features(clip)
        assert got.dtype == np.float32, name
        assert got.shape == expected.shape == (int(np.ceil(len(clip) / 441)), 266), name
        assert np.abs(got - expected).max() <= 1e-6, name


def test_features_have_the_difference_after_each_spectrogram(madmom_beats, click_track):
    _, features = madmom_beats
    clicks, _ = click_track(120, 2.0, SR)
    out = features(clicks)
    start = 0
    for resolution in features.resolutions:
        bands = resolution.filterbank.shape[1]
        spec, diff = out[:, start:start + bands], out[:, start + bands:start + 2 * bands]
        d = resolution.diff_frames
        assert np.all(diff[:d] == 0) and np.all(diff >= 0)
        np.testing.assert_array_equal(diff[d:], np.maximum(spec[d:] - spec[:-d], 0))
        start += 2 * bands
    assert start == out.shape[1]


def test_tracker_activations_equal_madmoms_processor(madmom_beats, click_track):
    from liveband.metrics.beats import MadmomBeatTracker

    processor, _ = madmom_beats
    clip, _ = click_track(100, 4.0, SR, seed=5)
    got = MadmomBeatTracker().activations([clip], SR)[0]
    np.testing.assert_allclose(got, processor(clip), rtol=0, atol=1e-5)


def test_unsupported_input_and_options_are_refused(madmom_beats):
    from madmom.features.beats import RNNBeatProcessor

    from liveband.metrics.beat_features import BeatFeatures

    _, features = madmom_beats
    with pytest.raises(LiveBandError, match="expected mono"):
        features(np.zeros((2, 1000), np.float32))
    with pytest.raises(LiveBandError, match="expected mono"):
        features(np.zeros(1000, np.int16))
    processor = RNNBeatProcessor()
    processor.processors[0].processors[1].processors[0].processors[1].circular_shift = True
    with pytest.raises(LiveBandError, match="does not cover"):
        BeatFeatures.from_processor(processor.processors[0])


@pytest.mark.parametrize("hop_size, origin", [(441.0, 0), (220.5, 0), (441.0, 100), (441.0, -3000)])
def test_frames_equal_madmoms_framed_signal(madmom_beats, hop_size, origin):
    import dataclasses

    from madmom.audio.signal import FramedSignal, Signal

    _, features = madmom_beats
    signal = np.random.default_rng(0).standard_normal(5000).astype(np.float32)
    resolution = dataclasses.replace(features.resolutions[1], hop_size=hop_size, origin=origin)
    expected = FramedSignal(Signal(signal, sample_rate=SR), frame_size=resolution.frame_size,
                            hop_size=hop_size, origin=origin)
    got = resolution.frames(signal)
    assert got.shape == (len(expected), resolution.frame_size)
    np.testing.assert_array_equal(got, np.stack([expected[i] for i in range(len(expected))]))
