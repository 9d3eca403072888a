"""Rendering composed parts to audio through a General MIDI soundfont, and writing MIDI."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from liveband.data.song import Part, Song
from liveband.errors import LiveBandError
from liveband.utils.atomic import atomic_path

BLOCK = 256  # samples between event checks; events are placed sample-accurately


def default_soundfont() -> Path:
    """The GM soundfont that pretty_midi ships (works offline)."""
    import pretty_midi

    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise LiveBandError(f"data.synthetic.soundfont: {path} not found; set a SF2 path")
    return path


def render_part(part: Part, duration: float, sr: int, soundfont: bytes, detune_cents: float = 0.0) -> np.ndarray:
    """Mono float32 audio (T,) of one part, ``duration`` seconds at ``sr``; ``detune_cents``
    retunes the channel in the synthesiser (no resampling: note times do not move)."""
    import tinysoundfont

    synth = tinysoundfont.Synth(samplerate=sr)
    sfid = synth.sfload(soundfont)
    chan = 9 if part.is_drum else 0
    synth.program_select(chan, sfid, 128 if part.is_drum else 0, part.program, is_drums=part.is_drum)
    if detune_cents:
        synth.set_tuning(chan, detune_cents / 100.0)
    events = []  # (sample, order, kind, pitch, velocity); note-offs before note-ons at a tie
    for n in part.notes:
        events.append((int(n.start * sr), 1, "on", n.pitch, n.velocity))
        events.append((int(n.end * sr), 0, "off", n.pitch, 0))
    events.sort()
    total = int(duration * sr)
    out = np.zeros((total, 2), dtype=np.float32)
    pos = 0
    for sample, _, kind, pitch, vel in events + [(total, 0, "end", 0, 0)]:
        sample = min(sample, total)
        if sample > pos:
            block = np.frombuffer(synth.generate(sample - pos), dtype=np.float32).reshape(-1, 2)
            out[pos:sample] = block
            pos = sample
        if kind == "on":
            synth.noteon(chan, pitch, vel)
        elif kind == "off":
            synth.noteoff(chan, pitch)
    return out.mean(axis=1)


def write_midi(song: Song, parts: list[Part], path: str | os.PathLike) -> None:
    """A MIDI file of ``parts`` at the song's tempo (written atomically)."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=song.tempo * song.metre.quarters_per_beat)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(*song.metre.time_signature, 0.0))
    for part in parts:
        inst = pretty_midi.Instrument(program=part.program, is_drum=part.is_drum, name=part.inst_class)
        inst.notes = [pretty_midi.Note(n.velocity, n.pitch, n.start, n.end) for n in part.notes]
        pm.instruments.append(inst)
    with atomic_path(path) as tmp:
        pm.write(str(tmp))
