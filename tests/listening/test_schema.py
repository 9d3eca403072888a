"""The one response validator: a valid session passes; each kind of invalid one is caught."""

from __future__ import annotations

import copy
import json

import pytest

from liveband.errors import LiveBandError
from liveband.listening.schema import (
    MAX_RESPONSE_BYTES,
    parse_response,
    validate_config,
    validate_response,
)


def test_valid_session_and_config_pass(kit, session):
    config, key = kit
    assert validate_config(config) == []
    assert validate_response(session(config, key), config) == []
    assert parse_response(json.dumps(session(config, key)), config)["complete"] is True


def _broken(config, key, edit, session):
    obj = session(config, key)
    edit(obj)
    return validate_response(obj, config)


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda o: o.update(schema="other/1"), "schema"),
    (lambda o: o.update(kit_id="x"), "kit_id"),
    (lambda o: o.update(session_id="not-a-uuid"), "session_id"),
    (lambda o: o.update(session_id="12345678-1234-1234-1234-123456789abc"), "session_id"),  # version 1
    (lambda o: o.update(started="yesterday"), "started"),
    (lambda o: o.update(complete="yes"), "complete"),
    (lambda o: o["ratings"][0].update(rating=6), "rating"),
    (lambda o: o["ratings"][0].update(rating=3.5), "rating"),
    (lambda o: o["ratings"][0].update(rating=True), "rating"),
    (lambda o: o["ratings"][0].update(test="loudness"), "test"),
    (lambda o: o["ratings"][0].update(dimension="adherence"), "dimension"),  # not of the quality test
    (lambda o: o["ratings"][0].update(stimulus="ffff"), "item/stimulus"),
    (lambda o: o["ratings"][0].update(kind="bonus"), "kind"),
    (lambda o: o["ratings"][-1].update(stimulus="0" * 6), "instructed"),
    (lambda o: o["ratings"].append(copy.deepcopy(o["ratings"][0])), "twice"),
    (lambda o: o["ratings"].pop(0), "lacks"),  # complete, yet a stimulus rated on one dimension only
    (lambda o: o.update(ratings=[r for r in o["ratings"] if r["item"] != "it01"]), "items of quality"),
    (lambda o: o["headphone_check"].update(answer=7), "headphone_check"),
    (lambda o: o.update(ratings={}), "ratings"),
])
def test_each_invalid_kind_is_caught(kit, session, edit, needle):
    config, key = kit
    errors = _broken(config, key, edit, session)
    assert errors and any(needle in e for e in errors), errors


def test_incomplete_session_may_lack_ratings(kit, session):
    config, key = kit
    obj = session(config, key)
    obj["complete"], obj["ratings"] = False, obj["ratings"][:5]
    assert validate_response(obj, config) == []


def test_size_limit_and_bad_json_raise(kit, session):
    config, key = kit
    obj = session(config, key)
    obj["user_agent"] = "x" * MAX_RESPONSE_BYTES
    assert "bytes" in validate_response(obj, config)[0]
    with pytest.raises(LiveBandError, match="bytes"):
        parse_response(json.dumps(obj), config)
    with pytest.raises(LiveBandError, match="s1.json: not JSON"):
        parse_response(b"{", config, name="s1.json")


def test_bad_config_is_reported(kit):
    config, _ = kit
    bad = copy.deepcopy(config)
    bad["tests"][0]["items"][1]["stimuli"][0] = bad["tests"][0]["items"][0]["stimuli"][0]
    assert any("twice" in e for e in validate_config(bad))
    assert validate_config([]) == ["config: not a JSON object"]
