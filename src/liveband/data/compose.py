"""Procedural multitrack songs from a seed: tempo, key, sections, chord progressions, fills.

Each song has drums (GM kit), a bass that follows the harmony, a chordal part, and a
rotating choice of further parts (pads, melodies, arpeggios, percussion, effects) so that
every Slakh ``inst_class`` occurs across a data set. Notes are in seconds; the beat grid
is exact, so beat trackers can be checked against ``Song.beats``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from liveband.data.classes import DRUMS, PROGRAM_FAMILIES

KICK, SNARE, HAT, OPEN_HAT, CRASH, RIDE = 36, 38, 42, 46, 49, 51
TOMS = (50, 47, 45, 43)
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
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


@dataclass
class Note:
    start: float
    end: float
    pitch: int
    velocity: int


@dataclass
class Part:
    inst_class: str
    program: int          # 0-based GM program (0 for drums)
    is_drum: bool
    notes: list[Note] = field(default_factory=list)


@dataclass
class Song:
    tempo: float
    beats_per_bar: int
    key_root: int          # pitch class 0-11
    mode: str              # "major" or "minor"
    duration: float        # seconds, including a release tail
    beats: list[float]
    downbeats: list[float]
    sections: list[tuple[str, int, int]]  # (name, first bar, n bars)
    parts: list[Part]


def _program_for(inst_class: str, rng: np.random.Generator) -> int:
    for lo, hi, name in PROGRAM_FAMILIES:
        if name == inst_class:
            return int(rng.integers(lo, hi + 1))
    raise ValueError(inst_class)


class _Composer:
    def __init__(self, rng: np.random.Generator, tempo: float, beats_per_bar: int, root: int, mode: str):
        self.rng, self.beat = rng, 60.0 / tempo
        self.bpb, self.root, self.scale = beats_per_bar, root, MAJOR if mode == "major" else MINOR

    def t(self, bar: int, beat: float) -> float:
        return (bar * self.bpb + beat) * self.beat

    def chord(self, degree: int, octave_base: int, size: int = 3) -> list[int]:
        """Pitches of the diatonic chord on ``degree`` (stacked thirds) near ``octave_base``."""
        pcs = [self.scale[(degree + 2 * i) % 7] + 12 * ((degree + 2 * i) // 7) for i in range(size)]
        return [octave_base + self.root + p for p in pcs]

    def note(self, part: Part, bar, beat, length_beats, pitch, vel, jitter=0.008):
        start = max(0.0, self.t(bar, beat) + float(self.rng.normal(0, jitter)))
        end = start + max(0.05, length_beats * self.beat * 0.95)
        vel = int(np.clip(vel + self.rng.normal(0, 6), 20, 127))
        part.notes.append(Note(start, end, int(np.clip(pitch, 0, 127)), vel))

    # --- roles -------------------------------------------------------------------------
    def drums(self, part: Part, sections, progression_of):
        for name, first, n_bars in sections:
            dense = name == "chorus"
            half = self.rng.random() < 0.25 and name != "chorus"
            for bar in range(first, first + n_bars):
                if bar == first:
                    self.note(part, bar, 0, 1, CRASH, 105)
                last = bar == first + n_bars - 1 and name != "outro"
                top = self.bpb - (1 if last else 0)
                for b in range(self.bpb):
                    if b >= top:
                        break
                    kick = b == 0 or (b == 2 and not half) or (dense and b == self.bpb - 1 and self.rng.random() < 0.3)
                    if kick:
                        self.note(part, bar, b, 0.5, KICK, 110)
                    if (b % 2 == 1 and self.bpb == 4) or (self.bpb == 3 and b > 0):
                        self.note(part, bar, b, 0.5, SNARE, 100)
                    cymbal = RIDE if dense and self.rng.random() < 0.5 else HAT
                    for sub in (0.0, 0.5):
                        self.note(part, bar, b + sub, 0.25, cymbal, 80 if sub else 95)
                if last:  # a fill on the last beat(s) of the section
                    for i in range(4):
                        self.note(part, bar, top + i * 0.25, 0.25, TOMS[i % 4] if i < 3 else SNARE, 100)

    def bass(self, part: Part, sections, progression_of):
        for name, first, n_bars in sections:
            prog, style = progression_of(name), self.rng.integers(0, 3)
            for bar in range(first, first + n_bars):
                root = self.chord(prog[(bar - first) % len(prog)], 36)[0]
                if root > 47:
                    root -= 12
                if style == 0:   # roots on the beat
                    for b in range(self.bpb):
                        self.note(part, bar, b, 0.9, root, 100)
                elif style == 1:  # root-fifth eighths
                    for i in range(self.bpb * 2):
                        self.note(part, bar, i / 2, 0.45, root + (7 if i % 4 == 2 else 0), 95)
                else:             # long root plus a pickup
                    self.note(part, bar, 0, self.bpb - 1, root, 105)
                    self.note(part, bar, self.bpb - 0.5, 0.5, root + 12, 90)

    def comp(self, part: Part, sections, progression_of):
        for name, first, n_bars in sections:
            prog, style = progression_of(name), self.rng.integers(0, 3)
            for bar in range(first, first + n_bars):
                chord = self.chord(prog[(bar - first) % len(prog)], 60, 4 if self.rng.random() < 0.3 else 3)
                if style == 0:    # block chords on every beat
                    for b in range(self.bpb):
                        for p in chord:
                            self.note(part, bar, b, 0.8, p, 80)
                elif style == 1:  # offbeat stabs
                    for b in range(self.bpb):
                        for p in chord:
                            self.note(part, bar, b + 0.5, 0.4, p, 85)
                else:             # broken chord eighths
                    for i in range(self.bpb * 2):
                        self.note(part, bar, i / 2, 0.5, chord[i % len(chord)], 80)

    def pad(self, part: Part, sections, progression_of):
        for name, first, n_bars in sections:
            prog = progression_of(name)
            for bar in range(first, first + n_bars):
                for p in self.chord(prog[(bar - first) % len(prog)], 48 + 12 * int(self.rng.random() < 0.5)):
                    self.note(part, bar, 0, self.bpb, p, 70, jitter=0.0)

    def melody(self, part: Part, sections, progression_of):
        rhythm = self._motif()
        for name, first, n_bars in sections:
            if name == "intro" and self.rng.random() < 0.5:
                continue
            prog = progression_of(name)
            for bar in range(first, first + n_bars):
                chord = self.chord(prog[(bar - first) % len(prog)], 72)
                pitch = chord[int(self.rng.integers(0, 3))]
                for onset, length in rhythm:
                    step = int(self.rng.choice([-2, -1, 0, 1, 2]))
                    pitch = self._scale_step(pitch, step, 62, 86)
                    self.note(part, bar, onset, length, pitch, 90)

    def arpeggio(self, part: Part, sections, progression_of):
        for name, first, n_bars in sections:
            prog, up = progression_of(name), self.rng.random() < 0.5
            for bar in range(first, first + n_bars):
                chord = self.chord(prog[(bar - first) % len(prog)], 72, 4)
                seq = chord if up else chord[::-1]
                for i in range(self.bpb * 2):
                    self.note(part, bar, i / 2, 0.5, seq[i % len(seq)], 75)

    def hits(self, part: Part, sections, progression_of):
        pattern = [b for b in np.arange(0, self.bpb, 0.5) if self.rng.random() < 0.4] or [0.0]
        pitch = int(self.rng.integers(55, 75))
        for _, first, n_bars in sections:
            for bar in range(first, first + n_bars):
                for b in pattern:
                    self.note(part, bar, float(b), 0.5, pitch, 90)

    def texture(self, part: Part, sections, progression_of):
        for name, first, n_bars in sections:
            prog = progression_of(name)
            for bar in range(first, first + n_bars, 2):
                root = self.chord(prog[(bar - first) % len(prog)], 60)[0]
                self.note(part, bar, 0, 2 * self.bpb, root, 70, jitter=0.0)

    def fx(self, part: Part, sections, progression_of):
        for _, first, n_bars in sections:
            for bar in range(first, first + n_bars):
                if bar == first or self.rng.random() < 0.25:
                    self.note(part, bar, 0, self.bpb, int(self.rng.integers(55, 80)), 85, jitter=0.0)

    def _motif(self) -> list[tuple[float, float]]:
        """A one-bar rhythm of (onset beat, length in beats), repeated through the song."""
        onsets, b = [], 0.0
        while b < self.bpb:
            length = float(self.rng.choice([0.5, 0.5, 1.0, 1.0, 1.5, 2.0]))
            if self.rng.random() < 0.8:
                onsets.append((b, min(length, self.bpb - b)))
            b += length
        return onsets or [(0.0, 1.0)]

    def _scale_step(self, pitch: int, step: int, lo: int, hi: int) -> int:
        pcs = sorted({(self.root + s) % 12 for s in self.scale})
        candidates = [p for p in range(lo, hi + 1) if p % 12 in pcs]
        i = min(range(len(candidates)), key=lambda j: abs(candidates[j] - pitch))
        return candidates[int(np.clip(i + step, 0, len(candidates) - 1))]


def compose_song(seed: int, song_seconds: tuple[float, float], tempo_bpm: tuple[float, float],
                 extra_offset: int = 0) -> Song:
    """One song. ``extra_offset`` rotates which extra classes it uses (coverage over a set)."""
    rng = np.random.default_rng(seed)
    tempo = float(rng.uniform(*tempo_bpm))
    bpb = 3 if rng.random() < 0.15 else 4
    mode = "major" if rng.random() < 0.6 else "minor"
    root = int(rng.integers(0, 12))
    bar_s = bpb * 60.0 / tempo
    target = float(rng.uniform(*song_seconds))
    n_bars = max(4, int(np.ceil(target / bar_s)))
    sections, bar = [], 0
    plan = ["intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro"]
    i = 0
    while bar < n_bars:
        name = plan[min(i, len(plan) - 1)] if i < len(plan) else ("verse" if i % 2 else "chorus")
        length = int(rng.choice([2, 4])) if name in ("intro", "outro", "bridge") else int(rng.choice([4, 8]))
        length = min(length, n_bars - bar)
        sections.append((name, bar, length))
        bar += length
        i += 1
    progressions = {}

    def progression_of(name: str) -> tuple[int, ...]:
        if name not in progressions:
            progressions[name] = PROGRESSIONS[int(rng.integers(0, len(PROGRESSIONS)))]
        return progressions[name]

    comp = _Composer(rng, tempo, bpb, root, mode)
    chord_class = CHORD_CLASSES[(extra_offset + int(rng.integers(0, 3))) % 3]
    n_extra = int(rng.integers(2, 5))
    extras = [EXTRA_CLASSES[(extra_offset * 3 + k) % len(EXTRA_CLASSES)] for k in range(n_extra)]
    plan_parts = [(DRUMS, "drums"), ("Bass", "bass"), (chord_class, "comp")]
    plan_parts += [(c, ROLE_OF_CLASS[c]) for c in extras]
    parts = []
    for inst_class, role in plan_parts:
        is_drum = inst_class == DRUMS
        part = Part(inst_class, 0 if is_drum else _program_for(inst_class, rng), is_drum)
        getattr(comp, role)(part, sections, progression_of)
        parts.append(part)
    n_beats = n_bars * bpb
    beats = [round(k * 60.0 / tempo, 6) for k in range(n_beats)]
    return Song(
        tempo=tempo, beats_per_bar=bpb, key_root=root, mode=mode,
        duration=n_bars * bar_s + 1.5, beats=beats, downbeats=beats[::bpb],
        sections=sections, parts=parts,
    )
