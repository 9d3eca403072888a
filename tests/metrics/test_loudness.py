import importlib.util

import numpy as np
import pytest

from liveband.metrics.loudness import (
    _k_weighting_sos,
    integrated_loudness,
    normalize_loudness,
    prepare_for_metrics,
    resample,
)


def test_k_weighting_matches_the_48k_coefficients_of_the_standard():
    sos = _k_weighting_sos(48_000)
    np.testing.assert_allclose(sos[0, :3], [1.53512485958697, -2.69169618940638, 1.19839281085285], atol=1e-9)
    np.testing.assert_allclose(sos[0, 4:], [-1.69065929318241, 0.73248077421585], atol=1e-9)
    np.testing.assert_allclose(sos[1, 4:], [-1.99004745483398, 0.99007225036621], atol=1e-9)


@pytest.mark.parametrize("sr", [16_000, 44_100, 48_000])
def test_full_scale_997hz_sine_reads_minus_3_lufs(sr):
    x = np.sin(2 * np.pi * 997 * np.arange(5 * sr) / sr)
    assert integrated_loudness(x, sr) == pytest.approx(-3.01, abs=0.05)


@pytest.mark.parametrize("sr", [16_000, 44_100])
def test_normalisation_hits_minus_18_lufs_on_noise(sr):
    rng = np.random.default_rng(1)
    x = (0.05 * rng.standard_normal(6 * sr)).astype(np.float32)
    y = normalize_loudness(x, sr)
    assert integrated_loudness(y, sr) == pytest.approx(-18.0, abs=0.5)
    assert integrated_loudness(y, sr) == pytest.approx(-18.0, abs=0.01)  # exact by construction
    if importlib.util.find_spec("pyloudnorm"):  # independent implementation, slightly different filter
        import pyloudnorm

        assert pyloudnorm.Meter(sr).integrated_loudness(y.astype(np.float64)) == pytest.approx(-18.0, abs=0.5)


def test_gating_ignores_appended_silence_and_silence_is_minus_inf(sine):
    sr = 16_000
    x = sine(440, 4, sr)
    padded = np.concatenate([x, np.zeros(4 * sr, np.float32)])
    # Without gating, doubling the length with silence would lower the reading by 3 dB; the
    # gates drop the silent blocks, leaving only the partly silent ones at the boundary.
    assert integrated_loudness(padded, sr) == pytest.approx(integrated_loudness(x, sr), abs=0.3)
    silence = np.zeros(sr, np.float32)
    assert integrated_loudness(silence, sr) == -np.inf
    np.testing.assert_array_equal(normalize_loudness(silence, sr), silence)


def test_resample_to_16k_keeps_length_ratio_and_pitch(sine):
    sr = 44_100
    y = resample(sine(1000, 2, sr), sr, 16_000)
    assert len(y) == 32_000
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) * 16_000 / len(y) == pytest.approx(1000, abs=1)
    z = prepare_for_metrics(sine(1000, 2, sr), sr)
    assert integrated_loudness(z, 16_000) == pytest.approx(-18.0, abs=0.2)
