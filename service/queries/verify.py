"""Tamper evidence: recompute every aggregate's hash chain from the stored bytes.

For each stored event, in recorded order, the verifier checks that its state decodes, that
re-encoding the decoded state gives back exactly the stored bytes (so no byte changed
without changing a value), that its `chain_hash` is the digest of its canonical encoding,
and that it links to the previous event of its aggregate. The first failure is named.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification, Transcoder
from eventsourcing.utils import resolve_topic

from domain.canonical import GENESIS, canonical_bytes, chain_digest
from domain.ids import event_id

PAGE = 1000


@dataclass(frozen=True)
class Broken:
    event_id: str
    originator_id: str
    originator_version: int
    notification_id: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "originator_id": self.originator_id,
            "originator_version": self.originator_version,
            "notification_id": self.notification_id,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked_events: int
    first_broken: Broken | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked_events": self.checked_events,
            "first_broken": self.first_broken.as_dict() if self.first_broken else None,
        }


def iter_notifications(app: Application[Any], page: int = PAGE) -> Iterator[Notification]:
    start = 1
    while True:
        batch = app.recorder.select_notifications(start=start, limit=page)
        if not batch:
            return
        yield from batch
        start = batch[-1].id + 1


def check_link(transcoder: Transcoder, stored: Notification, prev_hash: str) -> tuple[str | None, str]:
    """Returns (reason it is broken or None, this event's chain hash)."""
    try:
        resolve_topic(stored.topic)
    except Exception:  # noqa: BLE001 - any failure to resolve is evidence of change
        return f"unknown topic {stored.topic!r}", prev_hash
    try:
        state = transcoder.decode(stored.state)
    except Exception:  # noqa: BLE001
        return "stored state does not decode", prev_hash
    if not isinstance(state, dict):
        return "stored state is not an object", prev_hash
    try:
        reencoded = transcoder.encode(state)
    except Exception:  # noqa: BLE001
        return "stored state does not re-encode", prev_hash
    if reencoded != bytes(stored.state):
        return "stored bytes differ from the encoding of their own content", prev_hash
    stored_hash = state.get("chain_hash")
    if state.get("prev_hash") != prev_hash:
        return "prev_hash does not link to the previous event of this aggregate", str(stored_hash)
    try:
        payload = canonical_bytes(stored.topic, stored.originator_id, stored.originator_version, state)
    except TypeError as error:
        return f"content cannot be canonicalised: {error}", str(stored_hash)
    if chain_digest(prev_hash, payload) != stored_hash:
        return "content does not match its chain hash", str(stored_hash)
    return None, str(stored_hash)


def verify_store(app: Application[Any]) -> Verification:
    """Read every stored event and report the first one whose bytes no longer match its chain."""
    heads: dict[UUID | str, tuple[int, str]] = {}
    checked = 0
    transcoder = app.mapper.transcoder
    for stored in iter_notifications(app):
        checked += 1
        last_version, prev_hash = heads.get(stored.originator_id, (0, GENESIS))
        reason: str | None
        if stored.originator_version != last_version + 1:
            reason, head = f"version {stored.originator_version} follows {last_version}", prev_hash
        else:
            reason, head = check_link(transcoder, stored, prev_hash)
        if reason is not None:
            originator = UUID(str(stored.originator_id))
            return Verification(
                ok=False,
                checked_events=checked,
                first_broken=Broken(
                    event_id(originator, stored.originator_version),
                    str(stored.originator_id),
                    stored.originator_version,
                    stored.id,
                    reason,
                ),
            )
        heads[stored.originator_id] = (stored.originator_version, head)
    return Verification(ok=True, checked_events=checked, first_broken=None)
