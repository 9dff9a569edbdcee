"""Canonical encoding of event state, the input of the tamper-evidence hash chain.

The encoding must give the same bytes for an event as it was built in memory and as it
is decoded back from the store, so it normalises the few types the store round-trips
differently (tuples come back as lists) and fixes key order and number formatting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

GENESIS = "0" * 64
"""The `prev_hash` of an aggregate's first event."""

CHAIN_FIELDS = ("originator_id", "originator_version", "chain_hash")


def _normalise(value: Any) -> Any:
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
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
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
        "state": {k: _normalise(v) for k, v in state.items() if k not in CHAIN_FIELDS},
    }
    return json.dumps(
        body, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def chain_digest(prev_hash: str, payload: bytes) -> str:
    """The link of the chain: sha256 over the previous link and this event's bytes."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + payload).hexdigest()
