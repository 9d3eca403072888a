"""Turn nested dicts into frozen dataclasses, strictly: unknown keys, missing keys and bad
types or values raise a one-line LiveBandError naming the dotted key.

Dataclass fields may carry ``metadata={"check": callable, "doc": str}``; the check returns
an error string (or None) for a value that has the right type but a bad value.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from typing import Any, get_args, get_origin, get_type_hints

from liveband.errors import LiveBandError


def field(default=dataclasses.MISSING, *, check=None, doc: str = "", default_factory=dataclasses.MISSING):
    meta = {"check": check, "doc": doc}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


# Names that reach shell commands and paths (profiles, variants, evaluated systems): no
# quotes, spaces, slashes, `$` or backticks, and no leading dot.
NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def check_name(name: Any, key: str) -> str:
    """``name`` if it matches :data:`NAME_PATTERN`, else a one-line error naming ``key``."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise LiveBandError(f"{key}: {name!r} is not a valid name (letters, digits, '_', '.', '-'; "
                            "no leading '.' or '-')")
    return name


def positive(v):
    return None if v > 0 else "must be > 0"


def non_negative(v):
    return None if v >= 0 else "must be >= 0"


def probability(v):
    return None if 0.0 <= v <= 1.0 else "must be in [0, 1]"


def one_of(*choices):
    def check(v):
        return None if v in choices else f"must be one of {', '.join(map(str, choices))}"

    return check


def ordered_pair(v):
    return None if len(v) == 2 and v[0] <= v[1] else "must be [low, high] with low <= high"


def within(lo: float, hi: float):
    """A number, or every item of a list, in [lo, hi]."""
    def check(v):
        items = v if isinstance(v, (list, tuple)) else (v,)
        return None if all(lo <= x <= hi for x in items) else f"must be in [{lo}, {hi}]"

    return check


def all_of(*checks):
    def check(v):
        return next((p for p in (c(v) for c in checks) if p), None)

    return check


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except LiveBandError as exc:
                errors.append(str(exc))
        raise LiveBandError(errors[0] if errors else f"{key}: bad value {value!r}")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise LiveBandError(f"{key}: expected a mapping, got {type(value).__name__}")
        return from_dict(tp, value, key)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise LiveBandError(f"{key}: expected a list, got {value!r}")
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise LiveBandError(f"{key}: expected {len(args)} items, got {len(value)}")
            items = [_coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args))]
        else:
            item_tp = args[0] if args else Any
            items = [_coerce(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise LiveBandError(f"{key}: expected a mapping, got {value!r}")
        _, vt = get_args(tp) or (Any, Any)
        if dataclasses.is_dataclass(vt):  # a table of named entries: its keys become DAG names
            for k in value:
                check_name(k, f"{key}.{k!r}" if isinstance(k, str) else key)
        return {k: _coerce(v, vt, f"{key}.{k}") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise LiveBandError(f"{key}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise LiveBandError(f"{key}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise LiveBandError(f"{key}: expected a number, got {value!r}")
        if value != value or value in (float("inf"), float("-inf")):
            raise LiveBandError(f"{key}: must be finite, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise LiveBandError(f"{key}: expected a string, got {value!r}")
        return value
    raise TypeError(f"schema type {tp} at {key} is not supported")


def from_dict(cls, data: dict, prefix: str = ""):
    """Build dataclass ``cls`` from ``data``; every error names the dotted key."""
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}

    def dotted(k: str) -> str:
        return f"{prefix}.{k}" if prefix else k

    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise LiveBandError(f"{dotted(unknown[0])}: unknown key")
    kwargs = {}
    for name, f in fields.items():
        key = dotted(name)
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise LiveBandError(f"{key}: missing key")
            continue
        value = _coerce(data[name], hints[name], key)
        check = f.metadata.get("check")
        if check is not None and value is not None:
            problem = check(value)
            if problem:
                raise LiveBandError(f"{key}: {problem} (got {data[name]!r})")
        kwargs[name] = value
    obj = cls(**kwargs)
    post = getattr(obj, "validate", None)
    if callable(post):
        problem = post()
        if problem:
            k, msg = problem
            raise LiveBandError(f"{dotted(k)}: {msg}")
    return obj


def to_dict(obj) -> Any:
    """Plain nested dict/list form of a dataclass tree (for checkpoints and logs)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj
