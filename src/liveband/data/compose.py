"""Procedural multitrack songs from a seed: metre, tempo, key, sections, style, parts.

Metres 4/4, 3/4, 6/8 (two dotted-quarter beats) and 2/4. Two styles: ``band`` songs have a
bass that follows the harmony, a chordal part and a rotating choice of further parts (pads,
melodies, arpeggios, percussion, effects), usually drums (sections may drop them);
``chorale`` songs are four sustained homophonic voices (string quartet, choir, winds,
brass, organ, pads), rarely with drums. Every Slakh ``inst_class`` occurs across a data set.
Notes are in seconds; the beat grid is exact, so beat trackers can be checked against
``Song.beats`` (the annotated pulse: the dotted quarter in 6/8).
"""

from __future__ import annotations

import numpy as np

from liveband.data.classes import DRUMS, PROGRAM_FAMILIES, class_of_program
from liveband.data.roles import Composer
from liveband.data.song import METRE_WEIGHTS, METRES, Metre, Note, Part, Song

__all__ = ["Note", "Part", "Song", "Metre", "compose_song"]

# Progressions as scale degrees (0-based) per bar; each section picks one.
PROGRESSIONS = (
    (0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 4, 3), (1, 4, 0, 0),
    (0, 3, 0, 4), (0, 6, 5, 4), (5, 4, 3, 4), (0, 2, 3, 4),
)
# Role of each class; "core" classes are chosen separately.
ROLE_OF_CLASS = {
    "Chromatic Percussion": "arpeggio", "Ethnic": "arpeggio",
    "Strings": "pad", "Strings (continued)": "pad", "Synth Pad": "pad",
    "Brass": "melody", "Reed": "melody", "Pipe": "melody", "Synth Lead": "melody",
    "Percussive": "hits", "Sound Effects": "texture", "Sound effects": "fx",
}
EXTRA_CLASSES = tuple(ROLE_OF_CLASS)
CHORD_CLASSES = ("Piano", "Guitar", "Organ")
# Chorale ensembles: GM programs of bass, tenor, alto, soprano.
ENSEMBLES = (
    (42, 41, 40, 40),   # string quartet (cello, viola, two violins)
    (43, 42, 41, 40),   # strings with contrabass
    (48, 48, 49, 48),   # string ensembles
    (52, 52, 53, 52),   # choir
    (70, 71, 68, 73),   # bassoon, clarinet, oboe, flute
    (58, 57, 60, 56),   # tuba, trombone, horn, trumpet
    (19, 19, 19, 19),   # church organ
    (32, 89, 88, 94),   # acoustic bass under pads
)
CHORALE_SHARE = 0.2                       # of songs
DRUMLESS = {"band": 0.12, "chorale": 0.85}  # share of songs of each style without drums


def _program_for(inst_class: str, rng: np.random.Generator) -> int:
    for lo, hi, name in PROGRAM_FAMILIES:
        if name == inst_class:
            return int(rng.integers(lo, hi + 1))
    raise ValueError(inst_class)


def _sections(rng: np.random.Generator, n_bars: int) -> list[tuple[str, int, int]]:
    sections, bar, i = [], 0, 0
    plan = ["intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro"]
    while bar < n_bars:
        name = plan[i] if i < len(plan) else ("verse" if i % 2 else "chorus")
        length = int(rng.choice([2, 4])) if name in ("intro", "outro", "bridge") else int(rng.choice([4, 8]))
        length = min(length, n_bars - bar)
        sections.append((name, bar, length))
        bar += length
        i += 1
    return sections


def compose_song(seed: int, song_seconds: tuple[float, float], tempo_bpm: tuple[float, float],
                 extra_offset: int = 0) -> Song:
    """One song. ``extra_offset`` rotates which extra classes it uses (coverage over a set)."""
    rng = np.random.default_rng(seed)
    names = list(METRE_WEIGHTS)
    metre = METRES[names[int(rng.choice(len(names), p=list(METRE_WEIGHTS.values())))]]
    style = "chorale" if rng.random() < CHORALE_SHARE else "band"
    lo, hi = tempo_bpm
    # Chorales and compound (dotted-quarter) beats sit in the lower 60% of the range.
    slow = style == "chorale" or metre.subdivision == 3
    tempo = float(rng.uniform(lo, lo + 0.6 * (hi - lo) if slow else hi))
    mode = "major" if rng.random() < 0.6 else "minor"
    root = int(rng.integers(0, 12))
    bar_s = metre.beats_per_bar * 60.0 / tempo
    n_bars = max(4, int(np.ceil(float(rng.uniform(*song_seconds)) / bar_s)))
    sections = _sections(rng, n_bars)
    progressions = {}

    def progression_of(name: str) -> tuple[int, ...]:
        if name not in progressions:
            progressions[name] = PROGRESSIONS[int(rng.integers(0, len(PROGRESSIONS)))]
        return progressions[name]

    comp = Composer(rng, tempo, metre, root, mode)
    with_drums = rng.random() >= DRUMLESS[style]
    if style == "chorale":
        voices = [Part(class_of_program(p, False), p, False)
                  for p in ENSEMBLES[int(rng.integers(0, len(ENSEMBLES)))]]
        comp.chorale(voices, sections, progression_of)
        n_extra = int(rng.integers(1, 3))
        plan_parts = []
    else:
        voices = []
        n_extra = int(rng.integers(2, 5))
        chord_class = CHORD_CLASSES[(extra_offset + int(rng.integers(0, 3))) % 3]
        plan_parts = [("Bass", "bass"), (chord_class, "comp")]
    extras = [EXTRA_CLASSES[(extra_offset * 3 + k) % len(EXTRA_CLASSES)] for k in range(n_extra)]
    plan_parts = ([(DRUMS, "drums")] if with_drums else []) + plan_parts
    plan_parts += [(c, ROLE_OF_CLASS[c]) for c in extras]
    parts = []
    for inst_class, role in plan_parts:
        is_drum = inst_class == DRUMS
        part = Part(inst_class, 0 if is_drum else _program_for(inst_class, rng), is_drum)
        getattr(comp, role)(part, sections, progression_of)
        parts.append(part)
    parts[len(parts) - len(extras):len(parts) - len(extras)] = voices  # voices before the extras
    beats = [round(k * 60.0 / tempo, 6) for k in range(n_bars * metre.beats_per_bar)]
    return Song(
        tempo=tempo, metre=metre, style=style, key_root=root, mode=mode,
        duration=n_bars * bar_s + 1.5, beats=beats, downbeats=beats[::metre.beats_per_bar],
        sections=sections, parts=parts,
    )
