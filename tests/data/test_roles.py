"""The composer's roles follow the metre: kick and backbeat where the bar has them, cymbals
on every subdivision (two per beat, three in 6/8), no 4/4 assumption."""

import numpy as np
import pytest

from liveband.data.roles import Composer
from liveband.data.song import METRES, Part

TEMPO = 120.0
SNARES = {"4/4": {1, 3}, "3/4": {1, 2}, "6/8": {1}, "2/4": {1}}


def _drums(metre_name, seed=0):
    comp = Composer(np.random.default_rng(seed), TEMPO, METRES[metre_name], 0, "major")
    part = Part("Drums", 0, True)
    comp.drums(part, [("chorus", 0, 8)], lambda name: (0, 3, 4, 0))  # a chorus never drops out
    return comp, part


@pytest.mark.parametrize("name", ["4/4", "3/4", "6/8", "2/4"])
def test_drums_follow_the_metre(name):
    comp, part = _drums(name)
    beat, bpb, sub = 60 / TEMPO, comp.bpb, comp.sub

    def beats_of(pitch, bars=range(7)):  # the last bar holds the fill
        return {(int(round(n.start / beat)) // bpb, int(round(n.start / beat)) % bpb) for n in part.notes
                if n.pitch == pitch and int(round(n.start / beat)) // bpb in bars
                and abs(n.start / beat - round(n.start / beat)) < 0.1}

    assert {bar for bar, b in beats_of(36) if b == 0} == set(range(7))          # kick on every downbeat
    assert {b for _, b in beats_of(38)} == SNARES[name]                          # the metre's backbeat
    cymbals = np.array([n.start for n in part.notes if n.pitch in (42, 51) and n.start < (7 * bpb - 0.5 / sub) * beat])
    assert len(cymbals) == 7 * bpb * sub                                         # every subdivision
    step = beat / sub
    assert np.max(np.abs((cymbals / step + 0.5) % 1 - 0.5) * step) < 0.04


@pytest.mark.parametrize("name", ["3/4", "6/8", "2/4"])
def test_every_role_stays_inside_its_bars(name):
    comp = Composer(np.random.default_rng(1), TEMPO, METRES[name], 2, "minor")
    sections = [("verse", 0, 4), ("chorus", 4, 4)]
    bar_s = comp.bpb * 60 / TEMPO
    for role in ("bass", "comp", "pad", "melody", "arpeggio", "hits", "fx"):
        part = Part("x", 0, False)
        getattr(comp, role)(part, sections, lambda n: (0, 4, 5, 3))
        assert part.notes, role
        assert max(n.start for n in part.notes) < 8 * bar_s, role
        assert max(n.end for n in part.notes) <= 8 * bar_s + 0.05, role
