"""The trainrec eventsourcing Application: unit of work, retries, idempotency, lookups.

Commands live in the mixins of `service.commands_*`; this module holds what they share.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoder, Transcoding

from domain.actor import Actor
from domain.chained import ChainedAggregate
from domain.errors import Conflict, Invalid, NotFound
from domain.ids import event_id, idempotency_uuid, org_uuid, programme_uuid, teacher_uuid
from domain.org import OrgUnit
from domain.policy import DEFAULT_POLICY, Policy
from domain.programme import Programme
from domain.teacher import Teacher
from service.config import Storage, storage_from_environment
from service.group_commit import GroupCommitter
from service.records import DisputeIndex, IdempotencyRecord
from service.scopes import Scopes
from service.transcoder import FastJSONTranscoder

A = TypeVar("A", bound=Aggregate)

MAX_ATTEMPTS = 30
CACHE_SIZE = "5000"


def new_id(prefix: str) -> str:
    """Ids of credits and disputes: random, short enough to read out on the phone."""
    return f"{prefix}-{uuid4().hex[:16]}"


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def ensure_instant(value: datetime, name: str = "instant") -> datetime:
    """An instant a query may ask about: with an offset, between 1900 and 2200."""
    if value.tzinfo is None:
        raise Invalid("invalid_instant", f"{name} needs a UTC offset, e.g. 2025-01-01T00:00:00+08:00")
    try:
        in_range = EARLIEST <= value.astimezone(UTC) < LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise Invalid("invalid_instant", f"{name} must lie between 1900 and 2200")
    return value


def utc_now() -> datetime:
    return datetime.now(tz=UTC)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 24, 24.0 and 24.00 are the same request
    return str(value)


def fingerprint(payload: Any) -> str:
    """A stable digest of a command's input, to tell a retry from a different request."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=_plain)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class CommandResult:
    status: int
    body: dict[str, Any]
    notification_id: int | None = None
    replayed: bool = False


@dataclass
class Unit:
    """One command's working set: aggregates loaded once, saved together in one transaction."""

    app: TrainRecBase
    actor: Actor
    now: datetime
    touched: dict[UUID, Aggregate] = field(default_factory=dict)
    loaded: dict[UUID, Aggregate] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.app.policy.local_date(self.now)

    def get(self, cls: type[A], aggregate_id: UUID, code: str, detail: str) -> A:
        found = self.loaded.get(aggregate_id)
        if found is None:
            found = self.app.load(cls, aggregate_id, code, detail)
            self.loaded[aggregate_id] = found
        if not isinstance(found, cls):
            raise NotFound(code, detail)
        return found

    def add(self, aggregate: Aggregate) -> None:
        self.loaded[aggregate.id] = aggregate
        self.touched[aggregate.id] = aggregate

    def teacher(self, teacher_no: str) -> Teacher:
        return self.get(Teacher, teacher_uuid(teacher_no), "teacher_not_found", f"no teacher {teacher_no}")

    def programme(self, code: str) -> Programme:
        return self.get(Programme, programme_uuid(code), "programme_not_found", f"no programme {code}")

    def org(self, org_id: str) -> OrgUnit:
        return self.get(OrgUnit, org_uuid(org_id), "org_not_found", f"no org unit {org_id}")

    def exists(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self.loaded:
            return True
        return bool(self.app.recorder.select_events(aggregate_id, limit=1))


Handler = Callable[[Unit], tuple[int, dict[str, Any]]]


class TrainRecBase(Application[UUID]):
    name = "TrainRec"

    def __init__(
        self,
        storage: Storage | None = None,
        policy: Policy = DEFAULT_POLICY,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.storage = storage or storage_from_environment()
        self.policy = policy
        self.clock = clock
        self._orgs: dict[str, tuple[str | None, str]] = {}  # org_id -> (parent_id, kind)
        self.new_id: Callable[[str], str] = new_id
        self.group_committer: GroupCommitter | None = None
        # Aggregates stay cached between commands, fast-forwarded from the store on every get
        # (so other processes' writes are seen) and deep-copied out (so a refused command
        # cannot corrupt the cached state).
        env = {"AGGREGATE_CACHE_MAXSIZE": CACHE_SIZE, **self.storage.env}
        super().__init__(env=env)
        self.scopes = Scopes(self.org_chain)

    def construct_transcoder(self) -> Transcoder:
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def load(self, cls: type[A], aggregate_id: UUID, code: str, detail: str) -> A:
        """The current state of one aggregate, or the domain's not-found error with `code`."""
        try:
            found: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(code, detail) from None
        if not isinstance(found, cls):
            raise NotFound(code, detail)
        return found

    # --- org tree (kinds and parents never change, so they are cached) --------------------
    def org_chain(self, org_id: str) -> list[str]:
        chain: list[str] = []
        current: str | None = org_id
        while current is not None and current not in chain:
            chain.append(current)
            if current not in self._orgs and not self._cache_org(current):
                break
            current = self._orgs[current][0]
        return chain

    def org_kind(self, org_id: str) -> str:
        """An org unit's kind: a registration need not read the school back on every command."""
        if org_id not in self._orgs and not self._cache_org(org_id):
            raise NotFound("org_not_found", f"no org unit {org_id}")
        return self._orgs[org_id][1]

    def _cache_org(self, org_id: str) -> bool:
        """Read an org unit's parent and kind once (OrgUnit is registered, then only renamed)."""
        try:
            org = self.load(OrgUnit, org_uuid(org_id), "org_not_found", org_id)
        except NotFound:
            return False
        self._orgs[org_id] = (org.parent_id, str(org.kind))
        return True

    # --- command execution -----------------------------------------------------------------
    def execute(
        self,
        actor: Actor,
        handler: Handler,
        *,
        idempotency_key: str | None = None,
        request: Any = None,
    ) -> CommandResult:
        """Run `handler` in a unit of work and save what it touched in one transaction.

        A concurrent writer to the same aggregate makes the save fail; the command is then
        re-run on fresh state. With an idempotency key, the first answer is stored in the same
        transaction, and a retry with the same key and request replays it, recording nothing.
        """
        digest = fingerprint({"actor": actor.as_record(), "request": request})
        for attempt in range(MAX_ATTEMPTS):
            if idempotency_key is not None:
                replay = self._replay(actor, idempotency_key, digest)
                if replay is not None:
                    return replay
            unit = Unit(self, actor, self.clock())
            try:
                status, body = handler(unit)
            except BaseException:
                self._evict(unit)
                raise
            aggregates = list(unit.touched.values())
            public = [a for a in aggregates if not isinstance(a, DisputeIndex)]  # an index is bookkeeping
            body = {**body, "events": [describe_event(e, a) for a in public for e in a.pending_events]}
            if idempotency_key is not None:
                unit.add(
                    IdempotencyRecord.record(actor, idempotency_key, digest, status, json_safe(body), unit.now)
                )
            try:
                recordings = self._save_unit(unit)
            except IntegrityError:
                self._evict(unit)
                # Another writer got there first: re-run on fresh state after a short, jittered pause.
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # noqa: S311 - jitter, not secrecy
                continue
            except BaseException:
                self._evict(unit)
                raise
            last = max((r.notification.id for r in recordings), default=None)
            return CommandResult(status, body, last)
        raise Conflict("concurrent_update", "the records changed while this command ran; try again")

    def enable_group_commit(self) -> GroupCommitter:
        """Share transactions between concurrent commands (for a server; see service.group_commit)."""
        if self.group_committer is None:
            self.group_committer = GroupCommitter(self)
        return self.group_committer

    def _save_unit(self, unit: Unit) -> list[Any]:
        aggregates = list(unit.touched.values())
        if self.group_committer is None:
            return self.save(*aggregates)
        events = [e for a in aggregates for e in a.collect_events()]
        return self.group_committer.commit(events)

    def close(self) -> None:
        if self.group_committer is not None:
            self.group_committer.close()
            self.group_committer = None
        super().close()

    def _evict(self, unit: Unit) -> None:
        """Drop what a failed command loaded from the cache: in single-writer mode the cached
        objects themselves were changed."""
        cache = self.repository.cache
        if cache is None:
            return
        for aggregate_id in unit.loaded:
            with suppress(KeyError):
                cache.get(aggregate_id, evict=True)

    @contextmanager
    def single_writer(self) -> Iterator[None]:
        """For a bulk loader that is the store's only writer: hand out cached aggregates without
        deep copies (several times faster). Not for a server with concurrent requests."""
        if self.repository.cache is None:
            yield
            return
        previous = self.repository.deepcopy_from_cache
        self.repository.deepcopy_from_cache = False
        try:
            yield
        finally:
            self.repository.deepcopy_from_cache = previous

    def _replay(self, actor: Actor, key: str, digest: str) -> CommandResult | None:
        try:
            record = self.load(IdempotencyRecord, idempotency_uuid(actor.subject, key), "", "")
        except NotFound:
            return None
        if record.fingerprint != digest:
            raise Conflict("idempotency_key_reused", "this Idempotency-Key was used for a different request")
        return CommandResult(record.status, record.response, None, replayed=True)


def describe_event(event: Any, aggregate: Aggregate) -> dict[str, Any]:
    """An event as a write answers it: id, type, teacher_no (for a teacher's event), recorded_at."""
    described: dict[str, Any] = {
        "id": event_id(event.originator_id, event.originator_version),
        "type": type(event).__name__,
    }
    if isinstance(aggregate, Teacher):
        described["teacher_no"] = aggregate.teacher_no
    described["recorded_at"] = event.timestamp.isoformat()
    return described


def json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


__all__ = ["ChainedAggregate", "CommandResult", "TrainRecBase", "Unit"]
