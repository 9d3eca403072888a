"""The score of a composed song: notes, parts, metre and the song itself (times in seconds)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Metre:
    """A time signature as the composer and the beat annotations see it.

    ``beats_per_bar`` counts the annotated pulses: a 6/8 bar has two (dotted quarters), each
    split in ``subdivision`` = 3 eighths; simple metres split the beat in two.
    """

    name: str
    beats_per_bar: int
    subdivision: int
    kicks: tuple[float, ...]   # beats of the bar where the kick plays
    snares: tuple[float, ...]  # the backbeat

    @property
    def time_signature(self) -> tuple[int, int]:
        """(numerator, denominator) for a MIDI file."""
        return (self.beats_per_bar * 3, 8) if self.subdivision == 3 else (self.beats_per_bar, 4)

    @property
    def quarters_per_beat(self) -> float:
        return 1.5 if self.subdivision == 3 else 1.0


METRES = {
    "4/4": Metre("4/4", 4, 2, kicks=(0.0, 2.0), snares=(1.0, 3.0)),
    "3/4": Metre("3/4", 3, 2, kicks=(0.0,), snares=(1.0, 2.0)),
    "6/8": Metre("6/8", 2, 3, kicks=(0.0,), snares=(1.0,)),
    "2/4": Metre("2/4", 2, 2, kicks=(0.0,), snares=(1.0,)),
}
METRE_WEIGHTS = {"4/4": 0.55, "3/4": 0.15, "6/8": 0.2, "2/4": 0.1}


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
    tempo: float           # annotated beats per minute (6/8: dotted quarters)
    metre: Metre
    style: str             # "band" (riffs, comping) or "chorale" (four sustained voices)
    key_root: int          # pitch class 0-11
    mode: str              # "major" or "minor"
    duration: float        # seconds, including a release tail
    beats: list[float]
    downbeats: list[float]
    sections: list[tuple[str, int, int]]  # (name, first bar, n bars)
    parts: list[Part]

    @property
    def beats_per_bar(self) -> int:
        return self.metre.beats_per_bar
