"""The pre-registered exclusions on constructed sessions: one per reason, plus a clean one."""

from __future__ import annotations

import copy

import numpy as np

from liveband.listening.screening import participant_matrix, screen


def test_one_session_per_reason_and_a_clean_one(kit, session):
    config, key = kit
    conditions = {t: c for t, (_, _, c) in key.items()}
    clean = session(config, key, seed=0)

    def variant(seed, edit):
        obj = copy.deepcopy(session(config, key, seed=seed))
        edit(obj)
        return obj

    def flip_anchor(o):  # reference rated below the anchor on both quality dimensions
        for r in o["ratings"]:
            if r["test"] == "quality" and r["kind"] != "instructed" and conditions[r["stimulus"]] in ("ground_truth",
                                                                                                     "anchor"):
                r["rating"] = 6 - r["rating"]

    def unstable_retest(o):
        next(r for r in o["ratings"] if r["kind"] == "repeat")["rating"] = 2  # first rating 5

    responses = {
        "clean.json": clean,
        "invalid.json": variant(1, lambda o: o.update(kit_id="other")),
        "incomplete.json": variant(2, lambda o: o.update(complete=False, ratings=o["ratings"][:3])),
        "instructed.json": variant(3, lambda o: o["ratings"][-1].update(rating=4)),
        "headphones.json": variant(4, lambda o: o["headphone_check"].update(answer=0)),
        "post_screening.json": variant(5, flip_anchor),
        "retest.json": variant(6, unstable_retest),
        "unreadable.json": None,
    }
    out = screen(responses, config, conditions)
    assert out["kept"] == ["clean.json"]
    assert out["counts"] == {"invalid": 2, "incomplete": 1, "instructed": 1, "headphones": 1,
                             "post_screening": 1, "retest": 1}
    assert out["reasons"]["retest.json"] == ["retest"] and out["n_excluded"] == 7


def test_participant_means_average_items_per_condition(kit, session):
    config, key = kit
    conditions = {t: c for t, (_, _, c) in key.items()}
    m = participant_matrix([session(config, key), session(config, key, {"ground_truth": 4, "liveband": 2,
                                                                        "smg": 2, "anchor": 1}, seed=1)], conditions)
    assert np.array_equal(m["quality"], [[5, 4, 3, 1], [4, 2, 2, 1]])
    assert m["adherence_consistency"].shape == (2, 4)
