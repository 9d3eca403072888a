"""The page's examples: a seeded pick that spans classes and both kinds of mix, read from the index."""

import pandas as pd
import pytest

from liveband.companion.selection import drums_in_mix, select, selection_frame
from liveband.errors import LiveBandError
from liveband.evaluation.test_set import EvalExample


def example(k: int, cls: str, mix: tuple[str, ...]) -> EvalExample:
    return EvalExample(k, f"T{k}", "/r", "S9", cls, 0, mix, "T0", "S0", True, 0)


def pool() -> tuple[list[EvalExample], dict[int, bool]]:
    """30 examples: 5 classes x (drums / drumless mix) x 3; the 'Bass, drums' stratum is the largest."""
    classes = ["Bass", "Piano", "Guitar", "Strings", "Drums"]
    examples = [example(k, classes[k % 5], ("S0",)) for k in range(30)]
    drums = {e.example: (e.example // 5) % 2 == 0 for e in examples}
    return examples, drums


def test_spans_classes_and_both_mixes_and_is_seeded():
    examples, drums = pool()
    picked = select(examples, drums, 8, seed=3)
    assert len(picked) == len({e.example for e in picked}) == 8
    assert {drums[e.example] for e in picked} == {True, False}
    assert sum(drums[e.example] for e in picked) == 4                 # alternating strata: balanced
    assert len({(drums[e.example], e.inst_class) for e in picked}) == 8  # no stratum twice before all are used
    assert [e.example for e in select(examples, drums, 8, seed=3)] == [e.example for e in picked]
    assert [e.example for e in select(examples, drums, 8, seed=4)] != [e.example for e in picked]


def test_short_list_gives_all_and_frame_records_the_pick():
    examples, drums = pool()
    picked = select(examples[:4], drums, 8, seed=0)
    assert sorted(e.example for e in picked) == [0, 1, 2, 3]
    frame = selection_frame(picked, drums)
    assert list(frame.order) == [0, 1, 2, 3] and set(frame.columns) >= {"example", "track", "drums_in_mix"}


def test_drums_in_mix_reads_the_index():
    index = pd.DataFrame({"track": ["A", "A", "A", "B", "B"], "stem": ["S0", "S1", "S2", "S0", "S1"],
                          "inst_class": ["Drums", "Bass", "Piano", "Bass", "Piano"]})
    a = EvalExample(0, "A", "/r", "S1", "Bass", 0, ("S0", "S2"), "B", "S0", True, 1)
    a_drums = EvalExample(1, "A", "/r", "S0", "Drums", 0, ("S1", "S2"), "B", "S0", True, 1)
    b = EvalExample(2, "B", "/r", "S0", "Bass", 0, ("S1",), "A", "S1", True, 0)
    assert drums_in_mix([a, a_drums, b], index) == {0: True, 1: False, 2: False}
    with pytest.raises(LiveBandError, match="no row for B"):
        drums_in_mix([EvalExample(3, "B", "/r", "S0", "Bass", 0, ("S7",), "A", "S1", True, 0)], index)
