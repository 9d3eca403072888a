"""The synthetic set: deterministic songs, every class covered, Slakh layout the loader accepts."""

import json

import numpy as np
import pytest
import soundfile as sf

from liveband.data.classes import INSTRUMENT_CLASSES
from liveband.data.compose import compose_song
from liveband.data.slakh import index_tree
from liveband.data.synthetic import build_synthetic, plan_jobs


def test_songs_are_deterministic_and_on_a_beat_grid():
    a = compose_song(5, (20, 24), (70, 180), 0)
    b = compose_song(5, (20, 24), (70, 180), 0)
    assert [(n.start, n.pitch) for n in a.parts[0].notes] == [(n.start, n.pitch) for n in b.parts[0].notes]
    assert 70 <= a.tempo <= 180
    assert np.allclose(np.diff(a.beats), 60 / a.tempo, atol=1e-5)
    assert a.beats[-1] < a.duration <= a.beats[-1] + 60 / a.tempo * 2 + 1.5
    c = compose_song(6, (20, 24), (70, 180), 0)
    assert c.tempo != a.tempo


def test_every_slakh_class_occurs_in_a_dozen_songs():
    seen = {p.inst_class for k in range(12) for p in compose_song(k, (20, 24), (70, 180), k).parts}
    assert seen == set(INSTRUMENT_CLASSES)


def test_drums_bass_and_a_chord_part_in_every_song():
    for k in range(6):
        classes = [p.inst_class for p in compose_song(k, (20, 24), (70, 180), k).parts]
        assert classes[:2] == ["Drums", "Bass"] and classes[2] in ("Piano", "Guitar", "Organ")


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("syn") / "slakh"
    jobs = plan_jobs({"train": 2, "validation": 1, "test": 1}, 3, (6.0, 7.0), (100, 140), 22050, None)
    beats = build_synthetic(root, jobs, workers=1)
    return root, beats


def test_the_same_loader_accepts_the_synthetic_tree(tiny_set):
    root, beats = tiny_set
    index = index_tree(root, 22050)
    assert index.groupby("split").track.nunique().to_dict() == {"test": 1, "train": 2, "validation": 1}
    assert [b["track"] for b in beats] == ["Track00001", "Track00002", "Track00003", "Track00004"]
    assert (root / "train" / "Track00001" / "all_src.mid").is_file()
    assert (root / "train" / "Track00001" / "MIDI" / "S00.mid").is_file()
    json.dumps(beats)  # annotations serialise


def test_mix_is_the_sum_of_its_stems(tiny_set):
    root, _ = tiny_set
    track = root / "test" / "Track00004"
    mix, _ = sf.read(track / "mix.flac")
    stems = sum(sf.read(p)[0] for p in sorted((track / "stems").glob("*.flac")))
    assert np.max(np.abs(mix - stems)) < 1e-3  # 16-bit quantisation of each file
    assert np.max(np.abs(mix)) == pytest.approx(10 ** (-1 / 20), abs=2e-3)  # target peak -1 dBFS
    for p in (track / "stems").glob("*.flac"):
        assert np.sqrt(np.mean(sf.read(p)[0] ** 2)) > 1e-3, f"{p.name} is silent"
