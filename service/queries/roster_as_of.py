"""A programme's roster as it stood at an instant: the events of the programme and of every teacher
enrolled in it by then, recorded up to that instant, applied to tables of their own in memory (the
read model's own projection, so the roster is the one a read at that instant gave: absences pending
then, marks before their corrections, assessments not yet recorded)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.ids import programme_uuid, teacher_uuid
from domain.policy import Policy
from domain.programme import Programme
from projections.db import SQLiteDB
from projections.records import RecordsProjection
from projections.reports import Reports
from projections.schema import create_statements

PREFIX = "rm_"


def recorded_by(events: Any, at: datetime) -> list[Any]:
    """An aggregate's events (in version order) recorded at or before `at`."""
    found = []
    for event in events:
        if event.timestamp > at:
            break
        found.append(event)
    return found


def _of_programme(event: Any, code: str) -> bool:
    """Whether a teacher's event may touch the roster of `code`: it is about that programme, or about
    the teacher (registration, correction, transfer, departure)."""
    about = getattr(event, "programme_code", None)
    if about is None and isinstance(getattr(event, "programme", None), dict):
        about = event.programme.get("code")
    return about is None or about == code


def programme_as_of(events: Any, code: str, at: datetime) -> Programme | None:
    """The programme replayed from its events recorded by `at` (None: not yet defined then)."""
    aggregate: Any = None
    for event in recorded_by(events.get(programme_uuid(code)), at):
        aggregate = event.mutate(aggregate)
    return aggregate if isinstance(aggregate, Programme) else None


def roster_as_of(events: Any, policy: Policy, programme: Programme, teacher_nos: list[str], at: datetime,
                 held: int) -> dict[str, Any] | None:
    """The roster of `programme` (as recorded at `at`) over the teachers `teacher_nos` (every teacher
    with an enrolment in it recorded by then, and maybe others: they add nothing)."""
    streams: list[list[Any]] = [recorded_by(events.get(programme.id), at)]
    streams += [[e for e in recorded_by(events.get(teacher_uuid(no)), at) if _of_programme(e, programme.code)]
                for no in teacher_nos]
    ordered = sorted((e for stream in streams for e in stream),
                     key=lambda e: (e.timestamp, e.originator_id != programme.id, str(e.originator_id),
                                    e.originator_version))  # at one instant the programme's come first
    db = SQLiteDB(":memory:")
    try:
        with db.transaction() as tx:
            for statement in create_statements(PREFIX):
                tx.execute(statement)
            RecordsProjection(PREFIX, policy).apply_page(tx, enumerate(ordered, start=1))
        return Reports(db, PREFIX, policy).roster(programme.code, policy.local_date(at), held=held)
    finally:
        db.close()
