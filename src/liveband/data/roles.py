"""What each part plays: the composer's roles, all written against the song's metre.

Positions are in beats of the bar (``t(bar, beat)``); ``step`` is one subdivision (an eighth
in simple metres, a triplet eighth of the dotted-quarter beat in 6/8), so no role assumes
4/4. ``chorale`` writes four homophonic voices with minimal-motion voice leading.
"""

from __future__ import annotations

import numpy as np

from liveband.data.song import Metre, Note, Part

KICK, SNARE, HAT, OPEN_HAT, CRASH, RIDE = 36, 38, 42, 46, 49, 51
TOMS = (50, 47, 45, 43)
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
# Chorale voice ranges (MIDI pitches), bass first.
VOICE_RANGES = ((40, 60), (48, 67), (55, 74), (60, 81))


class Composer:
    def __init__(self, rng: np.random.Generator, tempo: float, metre: Metre, root: int, mode: str):
        self.rng, self.beat, self.metre = rng, 60.0 / tempo, metre
        self.bpb, self.sub = metre.beats_per_bar, metre.subdivision
        self.step = 1.0 / metre.subdivision
        self.root, self.scale = root, MAJOR if mode == "major" else MINOR

    def t(self, bar: int, beat: float) -> float:
        return (bar * self.bpb + beat) * self.beat

    def grid(self) -> list[float]:
        """Every subdivision of one bar, in beats."""
        return [i * self.step for i in range(self.bpb * self.sub)]

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
        """Kick/backbeat of the metre, a cymbal on every subdivision, fills; some sections
        (more often intros, bridges and outros) drop the drums, never all of them."""
        drop = [self.rng.random() < (0.35 if name in ("intro", "bridge", "outro") else 0.08)
                for name, _, _ in sections]
        if all(drop):
            drop[int(np.argmax([n for _, _, n in sections]))] = False
        for (name, first, n_bars), dropped in zip(sections, drop):
            if dropped:
                continue
            dense = name == "chorus"
            half = self.bpb == 4 and name != "chorus" and self.rng.random() < 0.25
            kicks = (0.0,) if half else self.metre.kicks
            snares = (2.0,) if half else self.metre.snares
            for bar in range(first, first + n_bars):
                if bar == first:
                    self.note(part, bar, 0, 1, CRASH, 105)
                last = bar == first + n_bars - 1 and name != "outro"
                top = self.bpb - (1 if last else 0)
                for b in range(top):
                    if b in kicks or (dense and b == self.bpb - 1 and self.rng.random() < 0.3):
                        self.note(part, bar, b, 0.5, KICK, 110)
                    if b in snares:
                        self.note(part, bar, b, 0.5, SNARE, 100)
                    cymbal = RIDE if dense and self.rng.random() < 0.5 else HAT
                    for s in range(self.sub):
                        self.note(part, bar, b + s * self.step, self.step / 2, cymbal, 80 if s else 95)
                if last:  # a fill on the last beat of the section
                    n = 2 * self.sub
                    for i in range(n):
                        self.note(part, bar, top + i / n, 1 / n, TOMS[i % 4] if i < n - 1 else SNARE, 100)

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
                elif style == 1:  # root on subdivisions, the fifth on every other beat
                    for i, pos in enumerate(self.grid()):
                        self.note(part, bar, pos, self.step * 0.9, root + (7 if i % (2 * self.sub) == self.sub else 0), 95)
                else:             # long root plus an octave pickup on the last subdivision
                    self.note(part, bar, 0, self.bpb - self.step, root, 105)
                    self.note(part, bar, self.bpb - self.step, self.step, root + 12, 90)

    def comp(self, part: Part, sections, progression_of):
        for name, first, n_bars in sections:
            prog, style = progression_of(name), self.rng.integers(0, 3)
            for bar in range(first, first + n_bars):
                chord = self.chord(prog[(bar - first) % len(prog)], 60, 4 if self.rng.random() < 0.3 else 3)
                if style == 0:    # block chords on every beat
                    for b in range(self.bpb):
                        for p in chord:
                            self.note(part, bar, b, 0.8, p, 80)
                elif style == 1:  # stabs on the subdivisions after each beat
                    for b in range(self.bpb):
                        for s in range(1, self.sub):
                            for p in chord:
                                self.note(part, bar, b + s * self.step, self.step * 0.8, p, 85)
                else:             # broken chord on the subdivisions
                    for i, pos in enumerate(self.grid()):
                        self.note(part, bar, pos, self.step, chord[i % len(chord)], 80)

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
                for i, pos in enumerate(self.grid()):
                    self.note(part, bar, pos, self.step, seq[i % len(seq)], 75)

    def hits(self, part: Part, sections, progression_of):
        pattern = [b for b in self.grid() if self.rng.random() < 0.4] or [0.0]
        pitch = int(self.rng.integers(55, 75))
        for _, first, n_bars in sections:
            for bar in range(first, first + n_bars):
                for b in pattern:
                    self.note(part, bar, b, self.step, pitch, 90)

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

    def chorale(self, voices: list[Part], sections, progression_of):
        """Four voices (bass first), one chord per bar (two in 4/4), each voice moving to the
        nearest tone of the next chord; a repeated pitch is usually held (tied)."""
        per_bar = 2 if self.bpb == 4 else 1
        length = self.bpb / per_bar
        prev = [None] * len(voices)
        held: list[Note | None] = [None] * len(voices)
        for name, first, n_bars in sections:
            prog, vel = progression_of(name), 78 if name == "chorus" else 66
            for bar in range(first, first + n_bars):
                for k in range(per_bar):
                    degree = prog[((bar - first) * per_bar + k) % len(prog)]
                    pcs = {p % 12 for p in self.chord(degree, 48)}
                    pitches = self._voice(prev, pcs, self.chord(degree, 48)[0] % 12)
                    for v, (part, pitch) in enumerate(zip(voices, pitches)):
                        if pitch == prev[v] and held[v] is not None and self.rng.random() < 0.7:
                            held[v].end = self.t(bar, (k + 1) * length) - 0.05 * length * self.beat
                        else:
                            self.note(part, bar, k * length, length, pitch, vel, jitter=0.004)
                            held[v] = part.notes[-1]
                    prev = pitches

    def _voice(self, prev: list, pcs: set[int], root_pc: int) -> list[int]:
        out = []
        for v, (lo, hi) in enumerate(VOICE_RANGES[:len(prev)]):
            allowed = {root_pc} if v == 0 else pcs
            floor = out[-1] + 1 if out else lo
            candidates = [p for p in range(max(lo, floor), hi + 1) if p % 12 in allowed]
            if not candidates:
                candidates = [p for p in range(floor, floor + 12) if p % 12 in pcs]
            aim = prev[v] if prev[v] is not None else (lo + hi) // 2
            out.append(min(candidates, key=lambda p: (abs(p - aim), p)))
        return out

    def _motif(self) -> list[tuple[float, float]]:
        """A one-bar rhythm of (onset beat, length in beats), repeated through the song."""
        onsets, b = [], 0.0
        while b < self.bpb - 1e-9:
            length = float(self.rng.choice([1, 1, 2, 2, 3, 4])) * self.step
            if self.rng.random() < 0.8:
                onsets.append((b, min(length, self.bpb - b)))
            b += length
        return onsets or [(0.0, 1.0)]

    def _scale_step(self, pitch: int, step: int, lo: int, hi: int) -> int:
        pcs = sorted({(self.root + s) % 12 for s in self.scale})
        candidates = [p for p in range(lo, hi + 1) if p % 12 in pcs]
        i = min(range(len(candidates)), key=lambda j: abs(candidates[j] - pitch))
        return candidates[int(np.clip(i + step, 0, len(candidates) - 1))]
