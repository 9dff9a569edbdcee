"""Canonical encoding of event state, the input of the tamper-evidence hash chain.

The encoding must give the same bytes for an event as it was built in memory and as it
is decoded back from the store, so it normalises the few types the store round-trips
differently (tuples come back as lists) and fixes key order and number formatting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

GENESIS = "0" * 64
"""The `prev_hash` of an aggregate's first event."""

CHAIN_FIELDS = ("originator_id", "originator_version", "chain_hash")


def _normalise(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    exact = _BY_TYPE.get(kind)
    if exact is not None:
        return exact(value)
    return _normalise_subclass(value)


def _normalise_dict(value: Mapping[Any, Any]) -> dict[str, Any]:
    plain = _PLAIN
    return {k if type(k) is str else str(k): v if type(v) in plain else _normalise(v) for k, v in value.items()}


def _normalise_list(value: list[Any] | tuple[Any, ...]) -> list[Any]:
    plain = _PLAIN
    return [v if type(v) in plain else _normalise(v) for v in value]


_PLAIN = frozenset({str, int, bool, type(None)})
_BY_TYPE: dict[type, Callable[[Any], Any]] = {
    Decimal: lambda v: {"$dec": str(v)},
    datetime: lambda v: {"$dt": v.isoformat()},
    date: lambda v: {"$d": v.isoformat()},
    UUID: lambda v: {"$uuid": v.hex},
    float: lambda v: {"$f": repr(v)},
    dict: _normalise_dict,
    list: _normalise_list,
    tuple: _normalise_list,
}


def _normalise_subclass(value: Any) -> Any:
    """The same encoding for subclasses (str enums, timezone-aware subclasses, mappings …)."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, UUID):
        return {"$uuid": value.hex}
    if isinstance(value, float):
        return {"$f": repr(value)}
    if isinstance(value, Mapping):
        return _normalise_dict(value)
    if isinstance(value, (list, tuple)):
        return _normalise_list(value)
    msg = f"cannot canonicalise {type(value).__name__}"
    raise TypeError(msg)


def canonical_bytes(
    topic: str,
    originator_id: UUID | str,
    originator_version: int,
    state: Mapping[str, Any],
) -> bytes:
    """Deterministic bytes for one event: its topic, identity and state (less its own hash)."""
    body = {
        "topic": topic,
        "originator_id": str(originator_id),
        "originator_version": originator_version,
        "state": {k: v if type(v) in _PLAIN else _normalise(v) for k, v in state.items() if k not in CHAIN_FIELDS},
    }
    return dumps(body)


def dumps(body: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8 text unescaped: the bytes `reference_dumps` gives, faster
    (orjson writes the same escapes); integers beyond 64 bits take the reference path."""
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return reference_dumps(body)


def reference_dumps(body: Any) -> bytes:
    """The encoding's definition, as the standard library writes it (events stored so far were hashed so)."""
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def chain_digest(prev_hash: str, payload: bytes) -> str:
    """The link of the chain: sha256 over the previous link and this event's bytes."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + payload).hexdigest()
