"""Song planning: deterministic songs on an exact beat grid in every metre, drumless songs,
chorales, and every Slakh class across a small set."""

import numpy as np

from liveband.data.classes import DRUMS, INSTRUMENT_CLASSES
from liveband.data.compose import compose_song


def _songs(n, tempo=(50, 180)):
    return [compose_song(k, (20, 24), tempo, k) for k in range(n)]


def test_songs_are_deterministic_and_on_a_beat_grid():
    a = compose_song(5, (20, 24), (70, 180), 0)
    b = compose_song(5, (20, 24), (70, 180), 0)
    assert [(n.start, n.pitch) for p in a.parts for n in p.notes] == [(n.start, n.pitch) for p in b.parts for n in p.notes]
    assert 70 <= a.tempo <= 180
    assert np.allclose(np.diff(a.beats), 60 / a.tempo, atol=1e-5)
    assert a.beats[-1] < a.duration <= a.beats[-1] + 60 / a.tempo * 2 + 1.5
    assert compose_song(6, (20, 24), (70, 180), 0).tempo != a.tempo


def test_every_metre_occurs_and_its_beats_match_tempo_and_bar():
    songs = _songs(60)
    by_metre = {}
    for s in songs:
        by_metre.setdefault(s.metre.name, []).append(s)
    assert set(by_metre) == {"4/4", "3/4", "6/8", "2/4"}
    bars = {"4/4": 4, "3/4": 3, "6/8": 2, "2/4": 2}   # annotated beats per bar (6/8: dotted quarters)
    for name, group in by_metre.items():
        for s in group:
            assert 50 <= s.tempo <= 180
            assert np.allclose(np.diff(s.beats), 60 / s.tempo, atol=1e-5), name
            assert s.beats_per_bar == bars[name]
            assert np.allclose(np.diff(s.downbeats), bars[name] * 60 / s.tempo, atol=1e-5), name
            assert s.downbeats == s.beats[::bars[name]]
            assert s.beats[-1] + 60 / s.tempo <= s.duration - 1.5 + 1e-6  # the last bar is whole
    assert min(s.tempo for s in songs) < 70  # the range now reaches slow tempi


def test_compound_metre_subdivides_the_beat_in_three():
    song = next(s for s in _songs(60) if s.metre.name == "6/8" and s.parts[0].is_drum)
    third = 60 / song.tempo / 3
    onsets = np.array([n.start for n in song.parts[0].notes])
    to_triplets = np.abs((onsets / third + 0.5) % 1 - 0.5) * third
    to_eighths = np.abs((onsets / (1.5 * third) + 0.5) % 1 - 0.5) * 1.5 * third
    assert np.median(to_triplets) < 0.012            # within the timing jitter of the grid
    assert np.mean(to_eighths > 0.03) > 0.2          # many hits fall between duple eighths


def test_some_songs_have_no_drums_and_the_rest_lead_with_them():
    songs = _songs(80)
    drumless = [s for s in songs if not any(p.inst_class == DRUMS for p in s.parts)]
    assert 0.12 <= len(drumless) / len(songs) <= 0.4
    for s in songs:
        if s not in drumless:
            assert s.parts[0].inst_class == DRUMS and s.parts[0].is_drum
        if s.style == "band":
            classes = [p.inst_class for p in s.parts if not p.is_drum]
            assert classes[0] == "Bass" and classes[1] in ("Piano", "Guitar", "Organ")


def test_chorales_are_four_sustained_voices():
    chorales = [s for s in _songs(40) if s.style == "chorale"]
    assert chorales
    for s in chorales:
        voices = [p for p in s.parts if not p.is_drum][:4]
        beat = 60 / s.tempo
        lengths = [n.end - n.start for p in voices for n in p.notes]
        assert np.median(lengths) >= 1.8 * beat     # half a 4/4 bar or a whole bar, often tied
        # homophonic: every note starts on a chord change (two per 4/4 bar, else one per bar)
        span = (2 if s.beats_per_bar == 4 else s.beats_per_bar) * beat
        onsets = np.array([n.start for p in voices for n in p.notes])
        assert np.max(np.abs((onsets / span + 0.5) % 1 - 0.5) * span) < 0.02
        # voice leading by small steps in the upper voices (the bass may leap between roots)
        steps = [abs(a.pitch - b.pitch) for p in voices[1:] for a, b in zip(p.notes, p.notes[1:])]
        assert np.median(steps) <= 2


def test_every_slakh_class_occurs_in_a_dozen_songs():
    seen = {p.inst_class for s in _songs(12, (70, 180)) for p in s.parts}
    assert seen == set(INSTRUMENT_CLASSES)
