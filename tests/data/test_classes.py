import pytest

from liveband.data.classes import CLASS_VOCAB, NULL_ID, class_of_program, parse_instrument
from liveband.errors import LiveBandError


def test_vocabulary_is_slakh_plus_null():
    assert len(CLASS_VOCAB) == 18 and CLASS_VOCAB[NULL_ID] == "<null>"


@pytest.mark.parametrize("program, drum, name", [
    (0, False, "Piano"), (33, False, "Bass"), (48, False, "Strings (continued)"),
    (99, False, "Sound Effects"), (120, False, "Sound effects"), (5, True, "Drums"),
])
def test_gm_families(program, drum, name):
    assert class_of_program(program, drum) == name


def test_parse_instrument():
    assert CLASS_VOCAB[parse_instrument("bass")] == "Bass"
    assert parse_instrument("null") == NULL_ID
    with pytest.raises(LiveBandError, match="--instrument: 'kazoo'"):
        parse_instrument("kazoo")
