"""The listening test's shared contract (docs/LISTENING.md): names, the kit's config.json and
the ONE response validator, used by the `liveband listen` server and by stage `listening_stats`.

``validate_response(obj, config) -> list[str]`` returns one line per problem (empty = valid);
``parse_response(raw, config)`` decodes bytes and raises LiveBandError on the first problem.
Indices: ratings are 1..5 (``config["scale"]``); ``headphone_check.answer`` is the 0-based index
into ``config["headphone_check"]["options"]`` (as is the config's own ``answer``).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from liveband.errors import LiveBandError

KIT_SCHEMA = "liveband-listening-kit/1"
RESPONSE_SCHEMA = "liveband-listening-response/1"
MAX_RESPONSE_BYTES = 1_000_000
SCALE = (1, 5)
SCALE_LABELS = ("bad", "poor", "fair", "good", "excellent")
# test id -> its two dimensions (paper Table 4)
TESTS: dict[str, tuple[str, str]] = {
    "quality": ("quality", "quality_consistency"),
    "adherence": ("adherence", "adherence_consistency"),
}
DIMENSIONS = tuple(d for dims in TESTS.values() for d in dims)
CONDITIONS = ("ground_truth", "liveband", "smg", "anchor")
RATING_KINDS = ("item", "repeat", "instructed")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_iso(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        datetime.fromisoformat(v[:-1] + "+00:00" if v.endswith("Z") else v)
    except ValueError:
        return False
    return True


def _is_uuid4(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        u = uuid.UUID(v)
    except ValueError:
        return False
    return u.version == 4 and str(u) == v.lower()


def kit_index(config: dict) -> dict:
    """Lookup tables of a kit config: ``items[test][item] -> stimuli``, ``dims[test]``."""
    items = {t["id"]: {it["item"]: list(it["stimuli"]) for it in t["items"]} for t in config["tests"]}
    dims = {t["id"]: [d["id"] for d in t["dimensions"]] for t in config["tests"]}
    return {"items": items, "dims": dims}


def validate_config(config: Any) -> list[str]:
    """Problems with a kit's config.json (the server checks it once at start)."""
    if not isinstance(config, dict):
        return ["config: not a JSON object"]
    errors = []
    if config.get("schema") != KIT_SCHEMA:
        errors.append(f"config.schema: expected {KIT_SCHEMA!r}")
    for key in ("kit_id", "scale", "tests", "items_per_test", "attention"):
        if key not in config:
            errors.append(f"config.{key}: missing")
    if errors:
        return errors
    scale = config["scale"]
    if not (isinstance(scale, list) and len(scale) == 2 and all(map(_is_int, scale)) and scale[0] < scale[1]):
        errors.append("config.scale: must be [low, high] integers")
    tests = config["tests"]
    if not isinstance(tests, list) or not tests:
        return errors + ["config.tests: must be a non-empty list"]
    seen: set[str] = set()
    for i, t in enumerate(tests):
        try:
            dims = [d["id"] for d in t["dimensions"]]
            item_list = t["items"]
            stimuli = [s for it in item_list for s in it["stimuli"]] + [x["stimulus"] for x in t["training"]]
            items = [it["item"] for it in item_list]
        except (KeyError, TypeError):
            errors.append(f"config.tests[{i}]: needs id, dimensions[].id, items[].item/stimuli, training[].stimulus")
            continue
        if t.get("id") not in TESTS or dims != list(TESTS[t["id"]]):
            errors.append(f"config.tests[{i}]: unknown test {t.get('id')!r} or dimensions {dims}")
        if len(item_list) < config["items_per_test"]:
            errors.append(f"config.tests[{i}].items: fewer than items_per_test")
        dup = seen.intersection(stimuli + items) or (len(set(stimuli + items)) != len(stimuli + items))
        if dup:
            errors.append(f"config.tests[{i}]: a token is used twice")
        seen.update(stimuli + items)
    return errors


def validate_response(obj: Any, config: dict, size: int | None = None) -> list[str]:
    """Every problem of one session's response against its kit ``config`` (empty list = valid).

    ``size`` is the raw body's length in bytes if known (else that of the compact JSON)."""
    if not isinstance(obj, dict):
        return ["response: not a JSON object"]
    if size is None:
        size = len(json.dumps(obj, separators=(",", ":")).encode())
    if size > MAX_RESPONSE_BYTES:
        return [f"response: {size} bytes > {MAX_RESPONSE_BYTES}"]
    errors: list[str] = []
    if obj.get("schema") != RESPONSE_SCHEMA:
        errors.append(f"schema: expected {RESPONSE_SCHEMA!r}")
    if obj.get("kit_id") != config.get("kit_id"):
        errors.append("kit_id: does not match this kit")
    if not _is_uuid4(obj.get("session_id")):
        errors.append("session_id: not a lowercase UUID4")
    if not _is_int(obj.get("participant_seed")) or obj["participant_seed"] < 0:
        errors.append("participant_seed: not a non-negative integer")
    if not _is_iso(obj.get("started")):
        errors.append("started: not an ISO 8601 time")
    if obj.get("finished") is not None and not _is_iso(obj.get("finished")):
        errors.append("finished: not an ISO 8601 time or null")
    if not isinstance(obj.get("complete"), bool):
        errors.append("complete: not true/false")
    if not isinstance(obj.get("user_agent", ""), str):
        errors.append("user_agent: not a string")
    errors += _check_headphones(obj.get("headphone_check"), config)
    ratings = obj.get("ratings")
    if not isinstance(ratings, list):
        return errors + ["ratings: not a list"]
    errors += _check_ratings(ratings, config)
    if obj.get("complete") is True and not errors:
        errors += _check_complete(ratings, config)
    return errors


def _check_headphones(check: Any, config: dict) -> list[str]:
    spec = config.get("headphone_check")
    if spec is None:
        return []
    if not isinstance(check, dict):
        return ["headphone_check: missing"]
    errors = []
    answer = check.get("answer")
    if answer is not None and not (_is_int(answer) and 0 <= answer < len(spec["options"])):
        errors.append("headphone_check.answer: not an option index or null")
    if not isinstance(check.get("passed"), bool):
        errors.append("headphone_check.passed: not true/false")
    return errors


def _check_ratings(ratings: list, config: dict) -> list[str]:
    index = kit_index(config)
    low, high = config["scale"]
    instructed = (config.get("attention") or {}).get("instructed") or {}
    errors: list[str] = []
    seen: set[tuple] = set()
    for i, r in enumerate(ratings):
        where = f"ratings[{i}]"
        if not isinstance(r, dict):
            errors.append(f"{where}: not an object")
            continue
        test, kind = r.get("test"), r.get("kind")
        if test not in index["items"]:
            errors.append(f"{where}.test: unknown {test!r}")
            continue
        if r.get("dimension") not in index["dims"][test]:
            errors.append(f"{where}.dimension: {r.get('dimension')!r} is not a dimension of {test}")
        if not (_is_int(r.get("rating")) and low <= r["rating"] <= high):
            errors.append(f"{where}.rating: not an integer in {low}..{high}")
        if kind not in RATING_KINDS:
            errors.append(f"{where}.kind: not one of {', '.join(RATING_KINDS)}")
        elif kind == "instructed":
            if r.get("stimulus") != instructed.get("stimulus"):
                errors.append(f"{where}.stimulus: not the instructed-response stimulus")
        elif r.get("stimulus") not in index["items"][test].get(r.get("item"), ()):
            errors.append(f"{where}: unknown item/stimulus of {test}")
        if not isinstance(r.get("played_to_end"), bool):
            errors.append(f"{where}.played_to_end: not true/false")
        if not (_is_int(r.get("order")) and r["order"] >= 0):
            errors.append(f"{where}.order: not a non-negative integer")
        if not (_is_number(r.get("seconds_listened")) and r["seconds_listened"] >= 0):
            errors.append(f"{where}.seconds_listened: not a non-negative number")
        key = (kind, test, r.get("stimulus"), r.get("dimension"))
        if key in seen:
            errors.append(f"{where}: {kind} rating of this stimulus and dimension given twice")
        seen.add(key)
    return errors


def _check_complete(ratings: list, config: dict) -> list[str]:
    """A complete session rated every stimulus of its items on both dimensions, and
    ``items_per_test`` items per test."""
    index = kit_index(config)
    rated = {(r["test"], r["stimulus"], r["dimension"]) for r in ratings if r["kind"] == "item"}
    errors = []
    for test, items in index["items"].items():
        shown = {r["item"] for r in ratings if r["kind"] == "item" and r["test"] == test}
        if len(shown) != config["items_per_test"]:
            errors.append(f"ratings: complete session rated {len(shown)} items of {test}, "
                          f"expected {config['items_per_test']}")
        for item in sorted(shown):
            missing = [(s, d) for s in items[item] for d in index["dims"][test] if (test, s, d) not in rated]
            if missing:
                errors.append(f"ratings: item {item} of {test} lacks {len(missing)} of its ratings")
    return errors


def parse_response(raw: bytes | str, config: dict, name: str = "response") -> dict:
    """Decode and validate one response; LiveBandError naming ``name`` on the first problem."""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_RESPONSE_BYTES:
        raise LiveBandError(f"{name}: {len(data)} bytes > {MAX_RESPONSE_BYTES}")
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LiveBandError(f"{name}: not JSON ({exc})") from exc
    errors = validate_response(obj, config, size=len(data))
    if errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise LiveBandError(f"{name}: {errors[0]}{more}")
    return obj
