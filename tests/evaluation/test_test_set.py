"""The evaluation list: several distinct targets per track, a same-class partner from another
song, an off-song mix for the margin, fixed by a seed and saved losslessly."""

import pandas as pd
import pytest

from liveband.errors import LiveBandError
from liveband.evaluation.test_set import build_test_list, from_frame, to_frame


def index(classes_per_track, seconds=30.0):
    rows = []
    for t, classes in enumerate(classes_per_track):
        for s, cls in enumerate(classes):
            rows.append({"split": "test", "track": f"Track{t:05d}", "root": "/data", "stem": f"S{s:02d}",
                         "inst_class": cls, "class_id": hash(cls) % 17, "duration_s": seconds})
    rows.append({"split": "train", "track": "Track99999", "root": "/data", "stem": "S00", "inst_class": "Bass",
                 "class_id": 1, "duration_s": seconds})
    return pd.DataFrame(rows)


TRACKS = [("Bass", "Drums", "Piano"), ("Bass", "Guitar"), ("Drums", "Piano", "Organ", "Bass"), ("Strings", "Bass")]


def test_targets_are_distinct_stems_of_each_track_and_capped():
    examples = build_test_list(index(TRACKS), n_examples=100, min_seconds=21.0, seed=0, targets_per_track=3)
    assert [e.example for e in examples] == list(range(len(examples)))
    per_track = pd.Series([e.track for e in examples]).value_counts().to_dict()
    assert per_track == {"Track00000": 3, "Track00001": 2, "Track00002": 3, "Track00003": 2}
    assert len({(e.track, e.target_stem) for e in examples}) == len(examples)
    for e in examples:
        assert e.target_stem not in e.mix_stems and len(e.mix_stems) >= 1
    capped = build_test_list(index(TRACKS), 5, 21.0, 0, targets_per_track=3)
    assert len(capped) == 5 and {e.track for e in capped} == {e.track for e in examples}   # every track kept


def test_partner_is_a_same_class_stem_of_another_song_when_one_exists():
    examples = build_test_list(index(TRACKS), 100, 21.0, seed=1, targets_per_track=4)
    lookup = index(TRACKS).set_index(["track", "stem"]).inst_class
    for e in examples:
        assert e.partner_track != e.track
        same = lookup[(e.partner_track, e.partner_stem)] == e.inst_class
        assert same == e.partner_same_class
        if e.inst_class in ("Bass", "Drums", "Piano"):   # classes several songs have
            assert e.partner_same_class
    assert any(not e.partner_same_class for e in examples if e.inst_class in ("Guitar", "Organ", "Strings"))
    by_id = {e.example: e for e in examples}
    assert all(by_id[e.mismatch_example].track != e.track for e in examples)


def test_list_is_seeded_and_round_trips(tmp_path):
    a = build_test_list(index(TRACKS), 100, 21.0, seed=3, targets_per_track=2)
    assert a == build_test_list(index(TRACKS), 100, 21.0, seed=3, targets_per_track=2)
    assert a != build_test_list(index(TRACKS), 100, 21.0, seed=4, targets_per_track=2)
    to_frame(a).to_csv(tmp_path / "list.csv", index=False)
    assert from_frame(pd.read_csv(tmp_path / "list.csv")) == a


def test_short_or_single_tracks_are_not_enough():
    with pytest.raises(LiveBandError, match="fewer than 2 test tracks"):
        build_test_list(index(TRACKS, seconds=10.0), 100, 21.0, seed=0)
