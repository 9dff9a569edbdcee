"""A command's unit of work (`Unit`), a batch of commands saved in one transaction (`Batch`), and
what a command answers (`CommandResult`)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording

from domain.actor import Actor
from domain.errors import NotFound
from domain.ids import dispute_uuid, org_uuid, programme_uuid, teacher_uuid
from domain.org import OrgUnit
from domain.programme import Programme
from domain.rules.late_entry import Occurrence, ensure_occurrence
from domain.teacher import Teacher
from service.auth.scopes import Kind
from service.records import DisputeIndex

if TYPE_CHECKING:
    from service.application.base import TrainRecBase

A = TypeVar("A", bound=Aggregate)

NAMED: dict[Kind, tuple[Callable[[str], UUID], str, str]] = {
    Kind.ORG: (org_uuid, "org_not_found", "no org unit {}"),
    Kind.TEACHER: (teacher_uuid, "teacher_not_found", "no teacher {}"),
    Kind.PROGRAMME: (programme_uuid, "programme_not_found", "no programme {}"),
    Kind.DISPUTE: (dispute_uuid, "dispute_not_found", "no dispute {}"),
}
"""Per kind of scoped id: its aggregate's id, and the not-found an admin is told when nothing is recorded under it."""


def named_id(kind: Kind, ident: str) -> tuple[UUID, str, str]:
    """The aggregate id of an org unit, teacher, programme or dispute, its not-found code and detail."""
    to_uuid, code, detail = NAMED[kind]
    return to_uuid(ident), code, detail.format(ident)


@dataclass
class CommandResult:
    status: int
    body: dict[str, Any]
    notification_id: int | None = None
    replayed: bool = False


@dataclass
class Batch:
    """Commands run one after another whose events are saved in one transaction (a bulk import).

    `aggregates` holds each aggregate as the batch's accepted commands left it, `events` what they
    recorded, in order. A command reads copies of these, so a refused command leaves no trace. An
    exclusive batch keeps what its accepted commands only read, unchanged, in `unchanged`, and hands
    those over without copies (a command refused after changing one drops it)."""

    aggregates: dict[UUID, Aggregate] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)
    commands: int = 0
    absent: set[UUID] = field(default_factory=set)  # ids known to have nothing stored (not looked up again)
    exclusive: bool = False  # no other thread uses the application meanwhile (see `batched`)
    fresh: dict[UUID, Aggregate] = field(default_factory=dict)  # read ahead, not yet used by a command
    # (exclusive batches) read by accepted commands and left unchanged: handed over as `fresh` is
    unchanged: dict[UUID, Aggregate] = field(default_factory=dict)
    # a creation's first attempt trusts the save's uniqueness check instead of reading (see
    # `Unit.taken`): for a server's batches, which are run again as a batch that reads if a save fails
    optimistic: bool = False
    recordings: list[Recording[UUID]] = field(default_factory=list)  # once saved, in the order of `events`


@dataclass
class Unit:
    """One command's working set: aggregates loaded once, saved together in one transaction."""

    app: TrainRecBase
    actor: Actor
    now: datetime
    touched: dict[UUID, Aggregate] = field(default_factory=dict)
    loaded: dict[UUID, Aggregate] = field(default_factory=dict)
    batch: Batch | None = None
    attempt: int = 0  # how many times this command ran before (see `taken`)

    @property
    def today(self) -> date:
        return self.app.policy.local_date(self.now)

    def occurred(self, on: date | None, late_reason: str | None) -> Occurrence:
        """When the fact this command records happened (default today), checked against the
        late-entry rule (domain/rules/late_entry.py) for this actor."""
        return ensure_occurrence(on, late_reason, self.today, self.app.policy.late_entry_days, self.actor)

    def get(self, cls: type[A], aggregate_id: UUID, code: str, detail: str) -> A:
        found = self.loaded.get(aggregate_id)
        if found is None:
            batch = self.batch
            if batch is not None and aggregate_id in batch.aggregates:
                # a copy of the batch's state: a command refused halfway leaves that state as it was
                found = copy.deepcopy(batch.aggregates[aggregate_id])
            elif batch is not None and aggregate_id in batch.fresh:
                # read ahead: an exclusive batch hands it over (a refused command's changes are dropped with it)
                fresh = batch.fresh
                found = fresh.pop(aggregate_id) if batch.exclusive else copy.deepcopy(fresh[aggregate_id])
            elif batch is not None and aggregate_id in batch.unchanged:
                found = batch.unchanged.pop(aggregate_id)  # (only an exclusive batch keeps them)
            else:
                found = self.app.load(cls, aggregate_id, code, detail, copy=batch is None or not batch.exclusive)
            self.loaded[aggregate_id] = found
        if not isinstance(found, cls):
            raise NotFound(code, detail)
        return found

    def add(self, aggregate: Aggregate) -> None:
        self.loaded[aggregate.id] = aggregate
        self.touched[aggregate.id] = aggregate

    def named(self, cls: type[A], kind: Kind, ident: str) -> A:
        """The org unit, teacher, programme or dispute the command names by `ident`. When nothing is
        recorded under it, the caller is told what its scope allows (`Scopes.unknown`): an admin that
        it is not found, anyone else (but the id's own holder) that it is outside its scope, in the
        words an id recorded outside its scope gets. Scope comes before existence."""
        aggregate_id, code, detail = named_id(kind, ident)
        try:
            return self.get(cls, aggregate_id, code, detail)
        except NotFound as missing:
            refusal = self.app.scopes.unknown(self.actor, kind, ident, missing)
            if refusal is missing:
                raise
            raise refusal from None

    def teacher(self, teacher_no: str) -> Teacher:
        return self.named(Teacher, Kind.TEACHER, teacher_no)

    def programme(self, code: str) -> Programme:
        return self.named(Programme, Kind.PROGRAMME, code)

    def dispute(self, dispute_id: str) -> DisputeIndex:
        return self.named(DisputeIndex, Kind.DISPUTE, dispute_id)

    def org(self, org_id: str, *, scoped: bool = True) -> OrgUnit:
        """An org unit the command names; `scoped=False` for an org anyone may name (the provider
        or owner of a programme being defined, once the definition's scope is checked), whose
        absence is a plain not-found."""
        if scoped:
            return self.named(OrgUnit, Kind.ORG, org_id)
        return self.get(OrgUnit, org_uuid(org_id), "org_not_found", f"no org unit {org_id}")

    def exists(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self.loaded or (self.batch is not None and (
                aggregate_id in self.batch.aggregates or aggregate_id in self.batch.fresh
                or aggregate_id in self.batch.unchanged)):
            return True
        if self.batch is not None and aggregate_id in self.batch.absent:
            return False
        return bool(self.app.recorder.select_events(aggregate_id, limit=1))

    def taken(self, aggregate_id: UUID) -> bool:
        """Whether a new aggregate's id is already used, for a command that creates it. A command's
        first attempt (outside a batch, or in a server's optimistic batch) does not read the store
        for it: the save refuses a second version 1 of an id (IntegrityError), and the command then
        runs again (`attempt` > 0, or in its group's second, not optimistic, batch) with the read, which answers
        it. Saves a query per registration on the usual, new, path."""
        batch = self.batch
        if self.attempt == 0 and aggregate_id not in self.loaded and (batch is None or (
                batch.optimistic and aggregate_id not in batch.aggregates and aggregate_id not in batch.fresh)):
            return False
        return self.exists(aggregate_id)


Handler = Callable[[Unit], tuple[int, dict[str, Any]]]
