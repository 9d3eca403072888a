"""Audio files in and out: truncation is caught by every reader, writes are atomic and fail cleanly."""

import errno
import os
import stat

import numpy as np
import pytest
import soundfile as sf

from liveband.data.audio_io import AudioWriter, audio_info, read_audio, read_blocks, write_audio
from liveband.errors import LiveBandError

SR = 22050


def noise(seconds: float, channels: int = 1, seed: int = 0) -> np.ndarray:
    n = int(SR * seconds)
    return (0.1 * np.random.default_rng(seed).standard_normal((n, channels))).astype(np.float32)


def cut_in_half(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("suffix, subtype", [(".wav", "PCM_16"), (".wav", "FLOAT"), (".flac", "PCM_16")])
def test_truncated_file_is_an_error_for_every_reader(tmp_path, suffix, subtype):
    path = tmp_path / f"mix{suffix}"
    sf.write(path, noise(5.0, 2), SR, subtype=subtype)
    assert read_audio(path)[0].shape == (2, 5 * SR)
    cut_in_half(path)
    with pytest.raises(LiveBandError, match=f"mix{suffix}: .*truncated"):
        read_audio(path)
    with pytest.raises(LiveBandError, match=f"mix{suffix}: .*truncated"):
        for _ in read_blocks(path, 4096):
            pass


def test_truncated_wav_is_caught_from_its_header(tmp_path):
    """libsndfile reports a cut WAV as a shorter, valid file; the header check sees the cut
    before any sample is decoded."""
    path = tmp_path / "mix.wav"
    sf.write(path, noise(5.0), SR, subtype="PCM_16")
    cut_in_half(path)
    assert sf.info(path).frames < 5 * SR  # what fooled the old check
    with pytest.raises(LiveBandError, match=r"mix.wav: truncated audio \(the header declares 220500 bytes"):
        audio_info(path)


@pytest.mark.parametrize("fmt", ["WAV", "RF64", "WAVEX"])
def test_complete_wav_variants_pass(tmp_path, fmt):
    path = tmp_path / "x.wav"
    sf.write(path, noise(0.5, 2), SR, format=fmt, subtype="PCM_24")
    assert audio_info(path).frames == SR // 2
    assert read_audio(path)[0].shape == (2, SR // 2)


def test_write_is_atomic_and_keeps_the_umask(tmp_path):
    path = tmp_path / "out.flac"
    old = os.umask(0o022)
    try:
        write_audio(path, noise(0.2).T, SR)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sf.info(path).frames == int(0.2 * SR) and os.listdir(tmp_path) == ["out.flac"]


def test_full_disk_is_a_one_line_error_and_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "out.wav"
    write_audio(path, noise(0.1).T, SR)
    before = path.read_bytes()

    def full(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sf.SoundFile, "write", full)
    with pytest.raises(LiveBandError, match=r"out.wav: cannot write \(.*No space left on device") as err:
        write_audio(path, noise(0.2).T, SR)
    assert "\n" not in str(err.value)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["out.wav"]


def test_short_write_and_failed_rename_are_one_line_errors(tmp_path, monkeypatch):
    writer = AudioWriter(tmp_path / "a.wav", SR, 1, flag="--out")
    monkeypatch.setattr(sf.SoundFile, "_array_io", lambda self, action, data, frames: frames - 1)
    with pytest.raises(LiveBandError, match="--out: .*a.wav: cannot write"):
        writer.write(np.zeros((1, 100), np.float32))  # soundfile asserts on a short write
    monkeypatch.undo()
    writer = AudioWriter(tmp_path / "b.wav", SR, 1)
    writer.write(np.zeros((1, 100), np.float32))

    def cross_device(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", cross_device)
    with pytest.raises(LiveBandError, match="b.wav: cannot write"):
        writer.commit()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", ["x.mp3", "x.ogg", "x.txt", "x"])
def test_only_wav_and_flac_are_written(tmp_path, name):
    with pytest.raises(LiveBandError, match="cannot write audio as .*use .wav or .flac"):
        write_audio(tmp_path / name, noise(0.1).T, SR)
    assert os.listdir(tmp_path) == []  # no hidden temporary file left behind
