"""Instrument categories: Slakh2100's ``inst_class`` vocabulary plus a null class.

Defined once here; every model's class embedding and every metadata reader uses it. Slakh
derives ``inst_class`` from the General MIDI program family (0-based program numbers),
with drums (``is_drum``) as their own class. The paper speaks of 18 categories plus null
without listing them; this is Slakh's own list of 17, and the null class makes 18 rows.
"""

from __future__ import annotations

from liveband.errors import LiveBandError

# (first GM program, last GM program, inst_class) in program order.
PROGRAM_FAMILIES: tuple[tuple[int, int, str], ...] = (
    (0, 7, "Piano"),
    (8, 15, "Chromatic Percussion"),
    (16, 23, "Organ"),
    (24, 31, "Guitar"),
    (32, 39, "Bass"),
    (40, 47, "Strings"),
    (48, 55, "Strings (continued)"),
    (56, 63, "Brass"),
    (64, 71, "Reed"),
    (72, 79, "Pipe"),
    (80, 87, "Synth Lead"),
    (88, 95, "Synth Pad"),
    (96, 103, "Sound Effects"),
    (104, 111, "Ethnic"),
    (112, 118, "Percussive"),
    (119, 127, "Sound effects"),
)
DRUMS = "Drums"
NULL_CLASS = "<null>"

INSTRUMENT_CLASSES: tuple[str, ...] = tuple(f[2] for f in PROGRAM_FAMILIES) + (DRUMS,)
CLASS_VOCAB: tuple[str, ...] = INSTRUMENT_CLASSES + (NULL_CLASS,)
NULL_ID = len(CLASS_VOCAB) - 1
N_CLASSES = len(CLASS_VOCAB)  # embedding rows, null included
_IDS = {name: i for i, name in enumerate(CLASS_VOCAB)}


def class_of_program(program: int, is_drum: bool) -> str:
    """Slakh's inst_class for a 0-based GM program (drums are their own class)."""
    if is_drum:
        return DRUMS
    for lo, hi, name in PROGRAM_FAMILIES:
        if lo <= program <= hi:
            return name
    raise LiveBandError(f"program_num: {program} is not a GM program (0-127)")


def class_id(name: str) -> int:
    """Index of a class name in CLASS_VOCAB; case-sensitive as Slakh spells it."""
    try:
        return _IDS[name]
    except KeyError:
        raise LiveBandError(
            f"instrument class '{name}' is not one of: {', '.join(INSTRUMENT_CLASSES)}"
        ) from None


def parse_instrument(value: str) -> int:
    """A class id from a CLI value: a class name (any case), its index, or 'null'."""
    lowered = {n.lower(): i for n, i in _IDS.items()}
    key = value.strip().lower()
    if key in ("null", "none"):
        return NULL_ID
    if key in lowered:
        return lowered[key]
    if key.isdigit() and int(key) < N_CLASSES:
        return int(key)
    raise LiveBandError(f"--instrument: '{value}' is not one of: {', '.join(INSTRUMENT_CLASSES)}")
