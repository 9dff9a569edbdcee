"""Tamper evidence: recompute every aggregate's hash chain from the stored bytes.

For each stored event, in recorded order, the verifier checks that its state decodes, that
re-encoding the decoded state gives back exactly the stored bytes (so no byte changed
without changing a value), that its `chain_hash` is the digest of its canonical encoding,
and that it links to the previous event of its aggregate. The first failure is named.

Incremental (docs/tamper-evidence.md): `ChainVerifier` remembers how far the log verified, and each
aggregate's head there (version and chain hash), in two tables beside the read model
(`verify_state`, `verify_heads`: derived, rebuilt by the next full run). A call checks only the
events recorded after that position, linking them to the remembered heads; `full` checks the whole
log again and replaces what is remembered. One verification runs at a time per process: a call
arriving meanwhile waits for it and answers with its result when that covers the log as the call
found it, else runs after it (only what was recorded since); past `wait` seconds it is refused
with 503 `verify_in_progress` and `Retry-After`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification, Transcoder
from eventsourcing.utils import resolve_topic

from domain.canonical import GENESIS, canonical_bytes, chain_digest
from domain.errors import Unavailable
from domain.ids import event_id
from projections.db import ReadModelDB

PAGE = 1000
WAIT_SECONDS = 10.0  # how long a call waits for the verification running before it
RETRY_AFTER = 5  # seconds, the Retry-After of `verify_in_progress`
STATE = "verify_state"
HEADS = "verify_heads"
LOOKUP = 500  # aggregate ids per query for their remembered heads

Head = tuple[int, str]  # an aggregate's version and chain hash


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
    """The events recorded after `from_position` up to `to_position` were checked (`full`: from
    the start of the log); `first_broken` ends the range when one does not verify."""

    ok: bool
    checked_events: int
    first_broken: Broken | None
    from_position: int = 0
    to_position: int = 0
    full: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked_events": self.checked_events,
            "first_broken": self.first_broken.as_dict() if self.first_broken else None,
            "from_position": self.from_position,
            "to_position": self.to_position,
            "full": self.full,
        }

    def covers(self, head: int, full: bool) -> bool:
        """Whether this answer serves a call that found the log at `head` (and wanted a full run)."""
        return (self.full or not full) and (self.to_position >= head or not self.ok)


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


def _key(originator_id: Any) -> str:
    return str(UUID(str(originator_id)))


def check_events(
    app: Application[Any],
    after: int,
    until: int,
    heads: dict[str, Head],
    remembered: Callable[[Sequence[str]], dict[str, Head]] | None = None,
) -> tuple[int, Broken | None, int, set[str]]:
    """Check the events recorded after position `after` up to `until`, in order, each linked to
    its aggregate's head in `heads` (updated as it goes; an aggregate not there is looked up with
    `remembered` once, else starts at the genesis). Returns how many were checked, the first that
    does not verify, the position of the last that did (or `after`), and the aggregates whose head
    moved."""
    checked = 0
    last_good = after
    moved: set[str] = set()
    looked_up: set[str] = set()
    transcoder = app.mapper.transcoder
    start = after + 1
    while start <= until:
        page = app.recorder.select_notifications(start=start, limit=PAGE, stop=until)
        if not page:
            break
        if remembered is not None:
            unknown = list({_key(s.originator_id) for s in page} - heads.keys() - looked_up)
            looked_up.update(unknown)
            heads.update(remembered(unknown))
        for stored in page:
            checked += 1
            key = _key(stored.originator_id)
            last_version, prev_hash = heads.get(key, (0, GENESIS))
            reason: str | None
            if stored.originator_version != last_version + 1:
                reason, head = f"version {stored.originator_version} follows {last_version}", prev_hash
            else:
                reason, head = check_link(transcoder, stored, prev_hash)
            if reason is not None:
                originator = UUID(key)
                broken = Broken(event_id(originator, stored.originator_version), str(stored.originator_id),
                                stored.originator_version, stored.id, reason)
                return checked, broken, last_good, moved
            heads[key] = (stored.originator_version, head)
            moved.add(key)
            last_good = stored.id
        start = page[-1].id + 1
    return checked, None, last_good, moved


def verify_store(app: Application[Any]) -> Verification:
    """Read every stored event and report the first one whose bytes no longer match its chain
    (a full run that remembers nothing)."""
    head = app.recorder.max_notification_id() or 0
    checked, broken, _, _ = check_events(app, 0, head, {})
    return Verification(broken is None, checked, broken, 0, broken.notification_id if broken else head, True)


class ChainVerifier:
    """Incremental verification of one store, one run at a time in this process (module docstring)."""

    def __init__(self, app: Application[Any], db: ReadModelDB, wait: float = WAIT_SECONDS) -> None:
        self.app = app
        self.db = db
        self.wait = wait
        self.runs = 0  # verifications this process ran over the log
        self._lock = threading.Lock()
        self._last: Verification | None = None

    def verify(self, full: bool = False) -> Verification:
        head = self.app.recorder.max_notification_id() or 0
        runs = self.runs
        if not self._lock.acquire(timeout=self.wait):
            raise Unavailable("verify_in_progress", "another verification of the store is running; retry later",
                              retry_after=RETRY_AFTER)
        try:
            last = self._last
            if self.runs > runs and last is not None and last.covers(head, full):
                return last  # the run this call waited for answers it too
            result = self.run(full)
            self._last = result
            self.runs += 1
            return result
        finally:
            self._lock.release()

    def run(self, full: bool) -> Verification:
        """Check what was recorded after the remembered position (everything when `full` or when
        nothing is remembered), then remember how far the log verified."""
        self._ensure_tables()
        head = self.app.recorder.max_notification_id() or 0
        position = 0 if full else self.position()
        if position > head:  # the log is shorter than what was verified: not the same log, start over
            position = 0
        full = position == 0
        heads: dict[str, Head] = {}
        checked, broken, last_good, moved = check_events(
            self.app, position, head, heads, None if full else self._remembered)
        self._remember(full, position, last_good, heads if full else {k: heads[k] for k in moved})
        return Verification(broken is None, checked, broken, position,
                            broken.notification_id if broken else head, full)

    # --- what is remembered ----------------------------------------------------------------
    def position(self) -> int:
        """The position up to which the log verified (0: nothing remembered)."""
        rows = self.db.query(f"SELECT position FROM {STATE} WHERE name = ?", ("chain",))
        return int(rows[0][0]) if rows else 0

    def _ensure_tables(self) -> None:
        """Create the tables if missing (every run: they may have been dropped, being derived)."""
        with self.db.exclusive("verify-tables"), self.db.transaction() as tx:
            tx.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (name TEXT PRIMARY KEY, position BIGINT NOT NULL)")
            tx.execute(f"CREATE TABLE IF NOT EXISTS {HEADS} (originator_id TEXT PRIMARY KEY, "
                       "version BIGINT NOT NULL, chain_hash TEXT NOT NULL)")

    def _remembered(self, ids: Sequence[str]) -> dict[str, Head]:
        found: dict[str, Head] = {}
        for start in range(0, len(ids), LOOKUP):
            part = ids[start:start + LOOKUP]
            marks = ", ".join("?" * len(part))
            for originator_id, version, chain_hash in self.db.query(
                    f"SELECT originator_id, version, chain_hash FROM {HEADS} WHERE originator_id IN ({marks})",
                    part):
                found[str(originator_id)] = (int(version), str(chain_hash))
        return found

    def _remember(self, full: bool, started: int, position: int, heads: dict[str, Head]) -> None:
        """A full run replaces what is remembered (also lowering the position when it found an
        event broken that an earlier run had passed); an incremental one moves it forward only if
        no other verification moved it since this one read it (another process)."""
        rows = [(k, version, chain_hash) for k, (version, chain_hash) in heads.items()]
        lock = " FOR UPDATE" if self.db.backend == "postgres" else ""
        with self.db.transaction() as tx:
            now = tx.query(f"SELECT position FROM {STATE} WHERE name = ?{lock}", ("chain",))
            if full:
                tx.execute(f"DELETE FROM {HEADS}")
                tx.copy(HEADS, ("originator_id", "version", "chain_hash"), rows)
            elif (int(now[0][0]) if now else 0) != started:
                return
            else:
                tx.executemany(f"INSERT INTO {HEADS} (originator_id, version, chain_hash) VALUES (?, ?, ?) "
                               "ON CONFLICT (originator_id) DO UPDATE SET version = excluded.version, "
                               "chain_hash = excluded.chain_hash", rows)
            tx.execute(f"INSERT INTO {STATE} (name, position) VALUES (?, ?) ON CONFLICT (name) "
                       "DO UPDATE SET position = excluded.position", ("chain", position))
