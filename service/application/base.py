"""The trainrec eventsourcing Application: command execution, retries, idempotency, batches, lookups.

Commands live in the mixins of `service.commands`; queries in `service.queries`; this module holds
what they share.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from copy import deepcopy
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, Transcoder

from domain.actor import Actor
from domain.errors import Conflict, NotFound
from domain.ids import idempotency_uuid, org_uuid
from domain.org import OrgUnit
from domain.policy import DEFAULT_POLICY, Policy
from service.application.group_commit import GroupCommitter
from service.application.unit import Batch, CommandResult, Handler, Unit, named_id
from service.application.values import (
    DateAsISO,
    describe_event,
    fingerprint,
    json_safe,
    new_id,
    project_events,
    utc_now,
)
from service.auth.scopes import Kind, Scopes
from service.records import CertificateIndex, DisputeIndex, IdempotencyRecord
from service.storage.bulk_reads import stored_events, stored_ids
from service.storage.config import Storage, storage_from_environment
from service.storage.locks import one_at_a_time
from service.storage.transcoder import FastJSONTranscoder

A = TypeVar("A", bound=Aggregate)

MAX_ATTEMPTS = 30
CACHE_SIZE = "5000"
# The library fast-forwards a cached aggregate under a lock of its own but copies it after letting
# go: a copy taken while another thread fast-forwards the same object fails ("dictionary changed
# size during iteration"). Loads of one aggregate hold one of these locks from the fast-forward
# through the copy (striped: bounded, whatever the number of aggregates).
_LOAD_LOCKS = tuple(threading.Lock() for _ in range(64))


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
        self._batches = threading.local()  # a thread's open Batch, if any (see `batched`)
        # Aggregates stay cached between commands, fast-forwarded from the store on every get
        # (so other processes' writes are seen) and deep-copied out (so a refused command
        # cannot corrupt the cached state).
        env = {"AGGREGATE_CACHE_MAXSIZE": CACHE_SIZE, **self.storage.env}
        with one_at_a_time(self.storage, "create-tables"):
            super().__init__(env=env)  # creates the event table if missing
        pool = getattr(getattr(self.recorder, "datastore", None), "pool", None)
        if pool is not None and hasattr(pool, "reconnect_timeout"):  # PostgreSQL (docs/operations.md)
            pool.reconnect_timeout = self.storage.location().reconnect_window
        self.scopes = Scopes(self.org_chain)

    def construct_transcoder(self) -> Transcoder:
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """`Application.save` (eventsourcing 9.5) with concrete class checks: the library tells an
        event from an aggregate with `isinstance` against runtime Protocols, which on Python 3.11
        costs tens of microseconds per object, on the server's one-at-a-time write path."""
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, DomainEvent):
                processing.events.append(obj)
            elif isinstance(obj, Aggregate):
                processing.events.extend(obj.collect_events())
                processing.aggregates[obj.id] = obj
            elif obj is not None:
                processing.collect_events(obj)  # anything else: the library's own checks
        processing.saved_kwargs.update(kwargs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)  # deprecated hook, called as the library does
        return recordings

    def load(self, cls: type[A], aggregate_id: UUID, code: str, detail: str, copy: bool = True) -> A:
        """The current state of one aggregate, or the domain's not-found error with `code`. Without
        `copy`, the cached object itself (whoever changes it must evict it if the change is not saved)."""
        try:
            with _LOAD_LOCKS[aggregate_id.int % len(_LOAD_LOCKS)]:
                found: Aggregate = self.repository.get(aggregate_id, projector_func=project_events,
                                                       deepcopy_from_cache=False)
                if copy:
                    found = deepcopy(found)
        except AggregateNotFoundError:
            raise NotFound(code, detail) from None
        if not isinstance(found, cls):
            raise NotFound(code, detail)
        return found

    def lookup(self, actor: Actor | None, cls: type[A], kind: Kind, ident: str) -> A:
        """`load` of the org unit, teacher, programme or dispute a query names by `ident`, for
        `actor`: when nothing is recorded under it, what the caller's scope allows it to be told
        (`Scopes.unknown`, as `Unit.named`). Without an actor (the service's own reads), not found."""
        aggregate_id, code, detail = named_id(kind, ident)
        try:
            return self.load(cls, aggregate_id, code, detail)
        except NotFound as missing:
            refusal = missing if actor is None else self.scopes.unknown(actor, kind, ident, missing)
            if refusal is missing:
                raise
            raise refusal from None

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
        # only a command with an idempotency key stores (and compares) the digest of its request
        digest = fingerprint({"actor": actor.as_record(), "request": request}) if idempotency_key is not None else ""
        batch: Batch | None = getattr(self._batches, "open", None)
        if batch is not None:
            return self._execute_in_batch(batch, actor, handler, idempotency_key, digest)
        for attempt in range(MAX_ATTEMPTS):
            if idempotency_key is not None:
                replay = self._replay(actor, idempotency_key, digest)
                if replay is not None:
                    return replay
            unit = Unit(self, actor, self.clock(), attempt=attempt)
            status, body = self._run(unit, handler, idempotency_key, digest)
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

    def _run(
        self, unit: Unit, handler: Handler, idempotency_key: str | None, digest: str
    ) -> tuple[int, dict[str, Any]]:
        """Run the command's rules in `unit`; its answer names the events it recorded, and with an
        idempotency key the answer is stored with them."""
        try:
            status, body = handler(unit)
        except BaseException:
            self._evict(unit)
            raise
        public = [a for a in unit.touched.values()  # an index is bookkeeping
                  if not isinstance(a, DisputeIndex | CertificateIndex)]
        body = {**body, "events": [describe_event(e, a) for a in public for e in a.pending_events]}
        if idempotency_key is not None:
            unit.add(IdempotencyRecord.record(unit.actor, idempotency_key, digest, status, json_safe(body), unit.now))
        return status, body

    def _execute_in_batch(
        self, batch: Batch, actor: Actor, handler: Handler, idempotency_key: str | None, digest: str
    ) -> CommandResult:
        """`execute` inside a batch: the command's rules run against the batch's state and its
        events join the batch's transaction (nothing is durable until `batched` commits)."""
        if idempotency_key is not None:
            replay = self._replay(actor, idempotency_key, digest, batch)
            if replay is not None:
                return replay
        unit = Unit(self, actor, self.clock(), batch=batch)
        status, body = self._run(unit, handler, idempotency_key, digest)
        for aggregate in unit.touched.values():
            events = aggregate.collect_events()
            if events or aggregate.id in batch.aggregates or not batch.exclusive:
                batch.events.extend(events)
                batch.aggregates[aggregate.id] = aggregate
        if batch.exclusive:
            # What the command read and left as it was (a programme an enrolment only reads, when it
            # has no capacity) goes to the next command as it is: neither a copy of the batch's state
            # per command nor a read of the store. A command refused after changing it drops it.
            for aggregate_id, aggregate in unit.loaded.items():
                if aggregate_id not in batch.aggregates:
                    batch.unchanged[aggregate_id] = aggregate
        batch.commands += 1
        return CommandResult(status, body, None)

    @contextmanager
    def batched(
        self,
        actor: Actor | None = None,
        idempotency_keys: Sequence[str] = (),
        *,
        exclusive: bool = False,
        read_ahead: Sequence[UUID] = (),
        optimistic: bool = False,
    ) -> Iterator[Batch]:
        """Run this thread's commands as one batch: each command is checked (and refused) on its
        own, against the state the batch's earlier commands left, and every accepted command's
        events are saved in one transaction when the block ends. Nothing is saved if the block
        raises; an IntegrityError (another writer changed one of the records meanwhile) means
        nothing was saved and the commands should be run again (a server's group: as a batch that
        is not optimistic, then one by one; see service.group_commit).

        `idempotency_keys` (of commands `actor` will send in the batch) are looked up in one query
        up front rather than one by one, and the aggregates `read_ahead` are read in one query too
        (if another writer changes one before the batch is saved, the save fails as it would have).

        `exclusive` (a bulk import, alone in its process) hands commands the cached aggregates
        themselves instead of copies: a command that fails, or a batch that is not saved, evicts
        what it changed from the cache. Another thread would see changes not yet saved, so never
        with concurrent requests.

        `optimistic` (a server's group of requests, service.group_commit): a command creating an
        aggregate does not read first whether its id is taken (`Unit.taken`); a taken id makes the
        save fail with IntegrityError, and the caller runs the commands again in a batch that is not
        optimistic (service.group_commit)."""
        if getattr(self._batches, "open", None) is not None:
            msg = "batches do not nest"
            raise RuntimeError(msg)
        batch = Batch(exclusive=exclusive, optimistic=optimistic)
        if actor is not None and idempotency_keys:
            ids = [idempotency_uuid(actor.subject, key) for key in idempotency_keys]
            batch.absent = set(ids) - stored_ids(self.recorder, ids)
        to_event = self.mapper.to_domain_event
        ahead = list(dict.fromkeys(read_ahead))
        for aggregate_id, events in stored_events(self.recorder, ahead).items():
            batch.fresh[aggregate_id] = project_events(None, (to_event(e) for e in events))
        batch.absent.update(i for i in ahead if i not in batch.fresh)
        self._batches.open = batch
        try:
            yield batch
        except BaseException:
            self._forget(batch.aggregates)  # in single-writer mode the cached objects were changed
            raise
        finally:
            self._batches.open = None
        if batch.events:
            try:
                batch.recordings = self.save(*batch.events)
            except BaseException:
                self._forget(batch.aggregates)
                raise
            cache = self.repository.cache
            if cache is not None:  # the cache then holds what was saved, so the next batch reads nothing back
                for aggregate_id, aggregate in batch.aggregates.items():
                    cache.put(aggregate_id, aggregate)

    def enable_group_commit(self) -> GroupCommitter:
        """Share transactions between concurrent commands (for a server; see service.group_commit)."""
        if self.group_committer is None:
            self.group_committer = GroupCommitter(self)
        return self.group_committer

    def _save_unit(self, unit: Unit) -> list[Any]:
        aggregates = list(unit.touched.values())
        if self.group_committer is None or self.group_committer.in_committer():
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
        self._forget(unit.loaded)

    def _forget(self, aggregate_ids: Any) -> None:
        cache = self.repository.cache
        if cache is None:
            return
        for aggregate_id in aggregate_ids:
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

    def _replay(self, actor: Actor, key: str, digest: str, batch: Batch | None = None) -> CommandResult | None:
        record_id = idempotency_uuid(actor.subject, key)
        pending = batch.aggregates.get(record_id) if batch is not None else None
        if pending is None and batch is not None and record_id in batch.absent:
            return None
        try:
            record = pending if isinstance(pending, IdempotencyRecord) else self.load(
                IdempotencyRecord, record_id, "", "")
        except NotFound:
            return None
        if record.fingerprint != digest:
            raise Conflict("idempotency_key_reused", "this Idempotency-Key was used for a different request")
        return CommandResult(record.status, record.response, None, replayed=True)
