import numpy as np
import pytest
import torch

from liveband.evaluation.degradations import codec_roundtrip, delay, lowpass, reverse, white_noise


def _sine(freq, sr=16_000, seconds=1.0):
    return np.sin(2 * np.pi * freq * np.arange(int(sr * seconds)) / sr)[None].astype(np.float32)


def test_delay_plays_the_segment_late_with_silence_before_the_song():
    audio = np.arange(1, 21, dtype=np.float32)[None].repeat(2, axis=0)  # (2, 20)
    np.testing.assert_array_equal(delay(audio, 5, 10, 3), audio[:, 2:7])
    np.testing.assert_array_equal(delay(audio, 2, 6, 4), np.array([[0, 0, 1, 2]] * 2, dtype=np.float32))
    np.testing.assert_array_equal(delay(audio, 5, 10, 0), audio[:, 5:10])


def test_white_noise_has_the_requested_snr():
    clean = _sine(440.0)
    for snr in (30.0, 10.0):
        noisy = white_noise(clean, snr, np.random.default_rng(0))
        measured = 10 * np.log10(np.mean(clean.astype(np.float64) ** 2) / np.mean((noisy - clean).astype(np.float64) ** 2))
        assert measured == pytest.approx(snr, abs=0.2)


def test_lowpass_keeps_the_band_below_and_removes_the_band_above():
    def level(x):
        return 10 * np.log10(np.mean(x[:, 2000:].astype(np.float64) ** 2))

    assert level(lowpass(_sine(500.0), 2000.0, 16_000)) == pytest.approx(level(_sine(500.0)), abs=0.5)
    assert level(lowpass(_sine(4000.0), 2000.0, 16_000)) < level(_sine(4000.0)) - 40.0


def test_reverse_and_codec_roundtrip_keep_the_shape():
    audio = np.random.default_rng(0).standard_normal((1, 5000)).astype(np.float32)
    np.testing.assert_array_equal(reverse(audio)[:, ::-1], audio)

    class HalfLength:  # decodes fewer samples than it was given, as a codec with a hop does
        def encode(self, x):
            return x[..., ::2]

        def decode(self, z):
            return torch.repeat_interleave(z, 2, dim=-1)[..., :-10]

    out = codec_roundtrip(HalfLength(), audio)
    assert out.shape == audio.shape and not out[:, -10:].any()
