"""Autoencoder crops: the in-memory sampler draws exactly the crops the FLAC-reading one does."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from liveband.data.audio_crops import AudioCropSampler
from liveband.data.slakh import index_tree
from liveband.errors import LiveBandError


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
@pytest.mark.parametrize("file_sr", [22050, 44100])
def test_preloaded_crops_equal_crops_read_from_disk(slakh_tree, file_sr, subtype):
    index = index_tree(slakh_tree, 44100)
    for path in slakh_tree.glob("train/*/stems/*.flac"):
        audio, _ = sf.read(path, dtype="float32")
        # louder than the fixture, so the integer scaling is exercised well away from zero
        sf.write(path.with_suffix(".wav") if subtype == "FLOAT" else path, 0.5 * audio, file_sr, subtype=subtype)
    if subtype == "FLOAT":   # the index names .flac files; point it at the float WAVs
        index = index.assign(stem_path=index.stem_path.str.replace(".flac", ".wav"))
    index = index.assign(duration_s=index.duration_s * 44100 / file_sr)
    crop = 4 * 2048
    disk = AudioCropSampler(index, "train", 22050, 1, crop, mix_probability=0.5)
    memory = AudioCropSampler(index, "train", 22050, 1, crop, mix_probability=0.5, preload=True)
    g_disk, g_memory = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    for _ in range(6):
        a, b = disk.sample(4, g_disk), memory.sample(4, g_memory)
        assert a.shape == (4, 1, crop)
        assert a.abs().max() > 0.01
        assert torch.equal(a, b)


def test_preloading_an_unreadable_stem_names_the_file(slakh_tree):
    index = index_tree(slakh_tree, 44100)
    bad = next(slakh_tree.glob("train/*/stems/S01.flac"))
    bad.write_bytes(b"fLaC not really")
    with pytest.raises(LiveBandError, match="S01.flac: unreadable audio"):
        AudioCropSampler(index, "train", 22050, 1, 4 * 2048, mix_probability=0.5, preload=True)


def test_window_at_the_end_of_a_stem_is_zero_padded(slakh_tree):
    index = index_tree(slakh_tree, 44100)
    sampler = AudioCropSampler(index, "train", 22050, 1, 4 * 2048, mix_probability=0.0, preload=True)
    root, stems, duration = sampler.tracks[0]
    window = sampler._read(root / stems[0], duration - 0.05, 0.2, 22050)
    assert window.shape == (1, 4410)
    assert np.any(window[0, :1000]) and not np.any(window[0, -2000:])
