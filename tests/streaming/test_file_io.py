"""Mix files stream in fixed memory and equal the whole-file conversion; empty or cut files fail."""

import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from liveband.data.audio_io import load_for_model
from liveband.errors import LiveBandError
from liveband.streaming import jam
from liveband.streaming.file_io import open_mix


def write_mix(path, seconds: float, sr: int = 44100, channels: int = 2, subtype: str = "PCM_16"):
    n = int(seconds * sr)
    t = np.arange(n) / sr
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.random.default_rng(0).standard_normal(n)
    sf.write(path, np.stack([tone, 0.5 * tone][:channels], 1).astype(np.float32), sr, subtype=subtype)
    return path


@pytest.mark.parametrize("sr, channels, block", [(44100, 2, 2048), (48000, 1, 1000), (22050, 2, 777)])
def test_stream_equals_whole_file_conversion(tmp_path, sr, channels, block):
    path = write_mix(tmp_path / "mix.flac", 3.3, sr, channels)
    whole, notes = load_for_model(path, 22050, 1)
    mix = open_mix(path, 22050, 1, block)
    blocks = list(mix)
    assert all(b.shape[-1] == block for b in blocks[:-1]) and 0 < blocks[-1].shape[-1] <= block
    streamed = np.concatenate(blocks, axis=1)
    assert streamed.shape == whole.shape and mix.notes == notes
    assert np.abs(streamed - whole).max() < 1e-5
    assert np.array_equal(np.concatenate(list(mix), axis=1), streamed)  # a second pass gives the same


def test_file_source_holds_one_block_not_the_file(tmp_path):
    """jam used to decode and resample a file at another rate whole (60 s stereo 44.1 kHz:
    21 MB of float32 before resampling); a block-wise source stays far below that."""
    path = write_mix(tmp_path / "long.wav", 60.0)
    tracemalloc.start()
    try:
        source = jam.file_source(path, 22050, 1, 2048)
        source.start(jam.FakeClock())
        samples = 0
        while (item := source.read()) is not None:
            samples += item[0].shape[-1]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3_000_000, f"peak {peak / 1e6:.1f} MB"
    assert samples == 60 * 22050 and source.notes == ["resampled 44100 -> 22050 Hz", "2 -> 1 channels"]


def test_empty_and_cut_files_fail(tmp_path):
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1), np.float32), 22050)
    with pytest.raises(LiveBandError, match=r"empty.wav: no audio \(0 frames\)"):
        open_mix(tmp_path / "empty.wav", 22050, 1, 2048)
    path = write_mix(tmp_path / "cut.flac", 5.0)
    path.write_bytes(path.read_bytes()[:-20_000])
    source = jam.file_source(path, 22050, 1, 2048)
    source.start(jam.FakeClock())
    with pytest.raises(LiveBandError, match="cut.flac: corrupt or truncated audio"):
        while source.read() is not None:
            pass
    with pytest.raises(LiveBandError, match="cannot map 6 channels to 2"):
        sf.write(tmp_path / "six.wav", np.zeros((100, 6), np.float32), 22050)
        open_mix(tmp_path / "six.wav", 22050, 2, 2048)


def test_normalizing_sink_scales_the_whole_stream_and_keeps_no_temporaries(tmp_path):
    from liveband.streaming.file_io import FileSink

    sink = FileSink(tmp_path / "o.wav", 22050, 1, lead=3, normalize_dbfs=-6.0)
    blocks = [np.full((1, 100), 0.5, np.float32), np.full((1, 50), -2.0, np.float32)]  # -2 is not clipped
    for i, b in enumerate(blocks):
        sink.write(b, 3 + 100 * (i + 1))
    sink.close(300)
    out, _ = sf.read(tmp_path / "o.wav")
    scale = 10 ** (-6 / 20) / 2.0
    assert out.shape == (300,) and sink.peak == 2.0
    np.testing.assert_allclose(out[3:103], 0.5 * scale, atol=1 / 32768)
    np.testing.assert_allclose(out[103:153], -2.0 * scale, atol=1 / 32768)
    assert not out[:3].any() and not out[153:].any()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.wav"]


def test_normalizing_sink_leaves_nothing_after_an_error(tmp_path):
    from liveband.streaming.file_io import FileSink

    sink = FileSink(tmp_path / "o.wav", 22050, 1, lead=0, normalize_dbfs=-1.0)
    sink.write(np.ones((1, 10), np.float32), 10)
    sink.close(10, ok=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("peak, normalize, expected", [
    (0.0, None, "silent"), (0.01, None, "near-silent"), (0.01, -1.0, None), (0.5, None, None),
    (1.5, None, "clipped"), (1.5, -1.0, None),
])
def test_level_warnings(peak, normalize, expected):
    from liveband.streaming.file_io import level_warnings

    found = level_warnings(peak, normalize)
    assert found == [] if expected is None else (len(found) == 1 and expected in found[0])
