"""accompany_file streams file to file: the same audio as the in-memory path, in fixed memory."""

import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from liveband.builders import load_bundle
from liveband.data.audio_io import load_for_model
from liveband.streaming.files import accompany_array, accompany_file

LSB = 1.5 / 32768  # 16-bit PCM rounding


def test_streamed_file_equals_in_memory_accompaniment(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle(2))
    path = tmp_path / "mix.wav"
    sf.write(path, 0.3 * np.random.default_rng(0).standard_normal((44100 * 3 + 123, 2)), 44100)
    result = accompany_file(bundle, path, 3, tmp_path / "acc.wav", tmp_path / "prev.flac", seed=4, block=5000)
    mix, notes = load_for_model(path, 22050, 1)
    expected, _ = accompany_array(bundle, mix, 3, seed=4)
    written, sr = sf.read(tmp_path / "acc.wav", always_2d=True)
    assert sr == 22050 and written.shape == (mix.shape[-1], 1) and result.samples == mix.shape[-1]
    assert np.abs(written.T - np.clip(expected, -1, 1)).max() <= LSB
    assert np.abs(expected).max() > 1e-3 and result.notes == notes
    preview, _ = sf.read(tmp_path / "prev.flac")
    scale = 1 / max(1.0, np.abs(mix).max())
    assert preview.shape == (mix.shape[-1], 2)
    assert np.abs(preview[:, 0] - scale * mix[0]).max() <= LSB + 1e-5      # left: the input
    assert np.abs(preview[:, 1] - scale * written[:, 0]).max() <= LSB      # right: the accompaniment


def test_accompany_file_memory_does_not_grow_with_length(tiny_bundle, tmp_path):
    """Peak numpy memory for 10 s and 40 s of 44.1 kHz stereo is the same: the old path held
    the mix (14 MB as float32 for 40 s), its resampled copy and the output whole, so its peak
    grew 4x. numpy buffers are traced; torch's are not, but the stream's torch state is a
    fixed window (tests/streaming/test_jam.py::test_long_stream_keeps_fixed_memory)."""
    bundle = load_bundle(tiny_bundle(1))
    peaks = {}
    for seconds in (10, 40):
        path = tmp_path / f"mix{seconds}.wav"
        noise = 0.1 * np.random.default_rng(1).standard_normal((44100 * seconds, 2)).astype(np.float32)
        sf.write(path, noise, 44100, subtype="PCM_16")
        del noise
        tracemalloc.start()
        try:
            result = accompany_file(bundle, path, 3, tmp_path / "acc.wav", tmp_path / "prev.wav")
            peaks[seconds] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert result.samples == seconds * 22050 and sf.info(tmp_path / "prev.wav").frames == seconds * 22050
    assert peaks[40] < 1.25 * peaks[10], f"peak {peaks[10] / 1e6:.1f} MB -> {peaks[40] / 1e6:.1f} MB"


def test_gain_and_normalize_set_the_stems_level(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle(1))
    path = tmp_path / "mix.wav"
    sf.write(path, 0.3 * np.random.default_rng(1).standard_normal(22050 * 2), 22050)
    mix, _ = load_for_model(path, 22050, 1)
    expected, _ = accompany_array(bundle, mix, 3, seed=2)
    peak = np.abs(expected).max()
    assert 1e-3 < peak < 1  # the untrained stem is audible and unclipped
    half = accompany_file(bundle, path, 3, tmp_path / "half.wav", seed=2, gain_db=-20 * np.log10(2))
    written, _ = sf.read(tmp_path / "half.wav", always_2d=True)
    assert np.abs(written.T - expected / 2).max() <= LSB
    assert half.peak_dbfs == pytest.approx(20 * np.log10(peak / 2), abs=1e-3)
    norm = accompany_file(bundle, path, 3, tmp_path / "norm.flac", seed=2, normalize_dbfs=-1.0, block=3000)
    written, _ = sf.read(tmp_path / "norm.flac", always_2d=True)
    target = 10 ** (-1 / 20)
    assert np.abs(written.T - expected * (target / peak)).max() <= LSB  # one scale for the whole stem
    assert np.abs(written).max() == pytest.approx(target, abs=LSB) and norm.warnings == []
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".pt")) == \
        ["half.wav", "mix.wav", "norm.flac"]  # the float first pass is gone


def test_a_near_silent_stem_is_reported(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle(1))
    path = tmp_path / "mix.wav"
    sf.write(path, 0.3 * np.random.default_rng(1).standard_normal(22050), 22050)
    quiet = accompany_file(bundle, path, 3, tmp_path / "q.wav", gain_db=-60.0)
    assert quiet.peak_dbfs < -30 and len(quiet.warnings) == 1 and "near-silent" in quiet.warnings[0]
    assert accompany_file(bundle, path, 3, tmp_path / "n.wav", gain_db=-60.0, normalize_dbfs=-3).warnings == []
