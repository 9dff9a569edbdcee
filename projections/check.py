"""`projections check`: rebuild every table's rows from a replay of the aggregates and compare.

The expected rows are derived from each aggregate's replayed state (and, for the audit feed,
from the notification log), not by re-running the projection's SQL handlers, so a handler
that mis-applies an event shows up as a difference.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.ids import event_id
from domain.org import OrgUnit
from domain.policy import Policy
from domain.programme import Programme
from domain.teacher import Teacher
from projections.records import instant, occurred_on, registration_date, x10, x100
from projections.schema import CACHES, TABLES, columns
from projections.view import ReadModel

Row = tuple[Any, ...]
CHECKED = [name for name in TABLES if name != "tracking" and name not in CACHES]


@dataclass(frozen=True)
class Difference:
    table: str
    kind: str  # "missing" (in the replay, not in the table) or "unexpected" (in the table only)
    row: Row

    def __str__(self) -> str:
        return f"{self.table}: {self.kind} {self.row}"


def _date(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def _flag(value: Any) -> int | None:
    return None if value is None else int(bool(value))


def _notifications(model: ReadModel, until: int) -> Iterator[Any]:
    start = 1
    while start <= until:
        batch = model.app.recorder.select_notifications(start=start, limit=1000, stop=until)
        if not batch:
            return
        yield from batch
        start = batch[-1].id + 1


def expected_rows(model: ReadModel, until: int) -> dict[str, set[Row]]:
    """Every table's rows as a replay of the events up to position `until` says they must be."""
    app = model.app
    rows: dict[str, set[Row]] = {name: set() for name in CHECKED}
    created = (Teacher.Registered, Programme.Defined, OrgUnit.Registered)
    ids: list[UUID] = []
    versions: dict[UUID, int] = {}
    school_now: dict[UUID, str] = {}
    owner_of: dict[UUID, str] = {}
    org_of: dict[UUID, str] = {}
    teacher_of: dict[UUID, str] = {}
    history = _History()
    for notification in _notifications(model, until):
        event: Any = app.mapper.to_domain_event(notification)
        versions[event.originator_id] = event.originator_version
        history.see(event)
        if isinstance(event, created):
            ids.append(event.originator_id)
        if isinstance(event, Teacher.Registered):
            school_now[event.originator_id] = event.school_id
            teacher_of[event.originator_id] = event.teacher_no
        elif isinstance(event, Teacher.Transferred):
            school_now[event.originator_id] = event.to_school_id
        elif isinstance(event, Programme.Defined):
            owner_of[event.originator_id] = event.owner_org_id
        elif isinstance(event, OrgUnit.Registered):
            org_of[event.originator_id] = event.org_id
        kind: str
        if isinstance(event, Teacher.Event):
            kind, teacher_no, org_id = "teacher", teacher_of[event.originator_id], school_now[event.originator_id]
        elif isinstance(event, Programme.Event):
            kind, teacher_no, org_id = "programme", None, owner_of[event.originator_id]
        elif isinstance(event, OrgUnit.Event):
            kind, teacher_no, org_id = "org", None, org_of[event.originator_id]
        else:
            continue
        rows["audit"].add((
            notification.id, type(event).__name__, kind, teacher_no, org_id,
            event.actor.get("sub", ""), event.actor.get("role", ""), instant(event.timestamp), event.reason,
            occurred_on(event).isoformat(), int(getattr(event, "late_entry", False)),
        ))
    orgs: dict[str, OrgUnit] = {}
    aggregates: list[Any] = [app.repository.get(aggregate_id, version=versions[aggregate_id]) for aggregate_id in ids]
    sessions = {a.code: len(a.sessions) for a in aggregates if isinstance(a, Programme)}
    for aggregate in aggregates:
        if isinstance(aggregate, OrgUnit):
            orgs[aggregate.org_id] = aggregate
        elif isinstance(aggregate, Programme):
            _programme_rows(aggregate, rows)
        elif isinstance(aggregate, Teacher):
            _teacher_rows(aggregate, rows, history, sessions)
            _teacher_year_rows(aggregate, rows, app.policy)
    for org in orgs.values():
        chain, current = [], org
        while True:
            chain.append(current.org_id)
            if current.parent_id is None:
                break
            current = orgs[current.parent_id]
        path = "/" + "/".join(reversed(chain)) + "/"
        rows["orgs"].add((org.org_id, str(org.id), org.name, org.kind, org.parent_id, path))
    return rows


def _attended(history: _History, teacher: UUID, code: str, sessions: Any) -> tuple[str | None, int]:
    """When the enrolment's first present mark was recorded, and whether any of its marks was corrected."""
    marks = [history.marks[(teacher, code, session_no)] for session_no in sessions]
    first_present = [at for session in marks for _, present, at in session[:1] if present]
    return min(first_present, default=None), int(any(len(session) > 1 for session in marks))


def _programme_rows(p: Programme, rows: dict[str, set[Row]]) -> None:
    rows["programmes"].add((
        p.code, str(p.id), p.title, p.level, p.form, p.selection, p.school_based_content, x10(p.hours),
        p.provider_id, p.owner_org_id, _date(p.starts_on), _date(p.ends_on), len(p.sessions), p.capacity,
        p.decision, int(p.needs_approval),
    ))


class _History:
    """What the aggregates' state does not keep and the as-of columns need, from the events in log
    order: when each event was recorded, when each absence became approved, every attendance mark,
    every corrected hire date with the start it replaced, when a departure was recorded."""

    def __init__(self) -> None:
        self.recorded: dict[str, str] = {}
        self.deciding: dict[tuple[UUID, str], dict[str, str]] = {}
        self.approved_at: dict[tuple[UUID, str], str] = {}
        self.marks: dict[tuple[UUID, str, int], list[tuple[str, int, str]]] = {}
        self.first_start: dict[UUID, str] = {}
        self.starts: list[tuple[UUID, str, str, str]] = []  # (teacher, event id, recorded at, start replaced)
        self.departed_at: dict[UUID, str] = {}

    def see(self, event: Any) -> None:
        at = instant(event.timestamp)
        ident = event_id(event.originator_id, event.originator_version)
        self.recorded[ident] = at
        if isinstance(event, Teacher.Registered):
            self.first_start[event.originator_id] = (
                event.hired_on.isoformat() if event.hired_on else registration_date(event.timestamp))
        elif isinstance(event, Teacher.Corrected) and event.hired_on is not None:
            self.starts.append((event.originator_id, ident, at, self.first_start[event.originator_id]))
            self.first_start[event.originator_id] = event.hired_on.isoformat()
        elif isinstance(event, Teacher.Departed):
            self.departed_at[event.originator_id] = at
        elif isinstance(event, Teacher.AbsenceRequested):
            self.deciding[(event.originator_id, event.programme_code)] = {}
        elif isinstance(event, Teacher.AbsenceDecided):
            decisions = self.deciding.setdefault((event.originator_id, event.programme_code), {})
            decisions[event.by] = event.decision
            if decisions == {"school": "approved", "provider": "approved"}:
                self.approved_at[(event.originator_id, event.programme_code)] = at
        elif isinstance(event, Teacher.AttendanceRecorded):
            key = (event.originator_id, event.programme_code, event.session_no)
            self.marks.setdefault(key, []).append((ident, int(event.present), at))


def _teacher_rows(t: Teacher, rows: dict[str, set[Row]], history: _History, sessions: dict[str, int]) -> None:
    """`sessions`: each programme's sessions now (cancelled ones gone), what every enrolment counts."""
    departure = t.departure
    departed_on = _date(departure["effective_on"]) if departure else None
    rows["teachers"].add((t.teacher_no, str(t.id), t.name, t.school_id, _date(t.hired_on), departed_on,
                          departure["kind"] if departure else None))
    starts = [_date(posting.from_date) or registration_date(t.created_on) for posting in t.postings]
    ends = [departed_on] if departed_on else []
    recorded = history.recorded
    for seq, posting in enumerate(t.postings, start=1):
        until = min(starts[seq:] + ends, default=None)  # the first of the later postings to start, or the departure
        # (transfers are in order, departures after them: the next posting ended this one, else the departure)
        until_recorded = None
        if until is not None:
            until_recorded = recorded[t.postings[seq].event_id] if seq < len(t.postings) else history.departed_at[t.id]
        rows["postings"].add((t.teacher_no, seq, posting.school_id, starts[seq - 1], posting.event_id, until,
                              recorded[posting.event_id], until_recorded))
    for teacher_id, ident, at, previous in history.starts:
        if teacher_id == t.id:
            rows["starts"].add((ident, t.teacher_no, at, previous))
    for code, e in t.enrolments.items():
        absence = e.absence
        assessment = e.assessment or {}
        evaluation = e.evaluation or {}
        rows["enrolments"].add((
            code, t.teacher_no, _date(e.ends_on), instant(e.enrolled_at), e.substitutes_for,
            absence.kind if absence else None, absence.status if absence else None,
            absence.substitute_teacher_no if absence else None,
            absence.decisions.get("school") if absence else None,
            absence.decisions.get("provider") if absence else None,
            sum(1 for a in e.attendance.values() if a.present), len(e.attendance), sessions[code],
            assessment.get("result"), _flag(assessment.get("late")),
            instant(assessment["assessed_at"]) if assessment else None,
            instant(evaluation["evaluated_at"]) if evaluation else None, _flag(evaluation.get("late")),
            history.approved_at.get((t.id, code)) if absence and absence.status == "approved" else None,
            *_attended(history, t.id, code, e.attendance),
        ))
        for session_no, mark in e.attendance.items():
            rows["attendance"].add((code, t.teacher_no, session_no, int(mark.present), mark.event_id))
            marks = history.marks[(t.id, code, session_no)]
            for n, (ident, present, at) in enumerate(marks):
                superseded = marks[n + 1][2] if n + 1 < len(marks) else None
                rows["marks"].add((ident, code, t.teacher_no, session_no, present, at, superseded))
    for c in t.credits.values():
        rows["credits"].add((
            c.credit_id, t.teacher_no, c.programme_code, c.title, c.level, c.form, c.selection,
            c.school_based_content, x10(c.hours), x100(c.credits), c.year, _date(c.awarded_on), instant(c.awarded_at),
            c.certified_by.get("sub", ""), c.certified_by.get("role", ""), c.school_id, c.event_id,
            c.policy_version, c.status, c.revoked_event_id, c.revoked_reason,
            recorded[c.revoked_event_id] if c.revoked_event_id else None,
        ))
    for h in t.prior().values():
        rows["prior_hours"].add((
            h.record_id, t.teacher_no, h.year, x10(h.hours), x10(h.self_selected), x10(h.school_based),
            x10(h.concentrated), h.source, instant(h.recorded_at), h.recorded_by.get("sub", ""),
            h.recorded_by.get("role", ""), h.event_id, h.status, h.revoked_event_id, h.revoked_reason,
            recorded[h.revoked_event_id] if h.revoked_event_id else None,
        ))
    for cited_by, evidence in [*((h.record_id, h.evidence) for h in t.prior().values()),
                               *((d.dispute_id, d.evidence) for d in t.disputes.values())]:
        for sha256 in {str(item.get("sha256", "")) for item in evidence} - {""}:
            rows["citations"].add((sha256, cited_by, t.teacher_no))
    for d in t.disputes.values():
        rows["disputes"].add((
            d.dispute_id, t.teacher_no, d.programme_code, d.claim, instant(d.opened_at), d.decision,
            d.resolution_reason, instant(d.resolved_at) if d.resolved_at else None,
        ))


def _teacher_year_rows(t: Teacher, rows: dict[str, set[Row]], policy: Policy) -> None:
    """rm_teacher_years as the replayed credits, earlier hours and enrolments say it must be."""
    years: dict[int, list[int]] = {}

    def year(y: int) -> list[int]:
        return years.setdefault(y, [0, 0, 0, 0, -1, 0, 0])  # -1: no concentrated credit

    for c in t.credits.values():
        if c.status != "valid":
            continue
        sums, hours = year(c.year), x10(c.hours)
        school_based = c.selection == "school_based" or c.form == "school_based"
        sums[0] += hours
        sums[1] += hours if c.selection == "self_selected" and c.form != "school_based" else 0
        sums[2] += hours if school_based and c.school_based_content == "designated" else 0
        sums[3] += hours if school_based and c.school_based_content == "elective" else 0
        sums[4] = max(sums[4], hours if c.form == "concentrated" else -1)
    for h in t.prior().values():
        if h.status != "valid":
            continue
        # earlier hours count like one credit of their year (domain/rules/prior_hours.py)
        sums = year(h.year)
        sums[0] += x10(h.hours)
        sums[1] += x10(h.self_selected)
        sums[3] += x10(h.school_based)
        sums[4] = max(sums[4], x10(h.concentrated) if h.concentrated > 0 else -1)
    for e in t.enrolments.values():
        sums = year(policy.year_of(e.ends_on))
        excused = e.absence is not None and e.absence.status == "approved"
        sums[5] += 0 if excused else 1
        sums[6] += 0 if excused or not any(a.present for a in e.attendance.values()) else 1
    for y, sums in years.items():
        start, _ = policy.cycle_of(y)
        cycle = sum(other[0] for other_year, other in years.items() if start <= other_year <= y)
        rows["teacher_years"].add((t.teacher_no, y, *sums, cycle))


def table_rows(model: ReadModel, prefix: str | None = None) -> dict[str, set[Row]]:
    p = prefix or model.prefix
    result = {}
    for name in CHECKED:
        cols = columns(name)
        result[name] = {tuple(r) for r in model.db.query(f"SELECT {', '.join(cols)} FROM {p}{name}")}
    return result


def check(model: ReadModel) -> tuple[int, list[Difference]]:
    """Compare the live tables with a replay up to the tables' own position."""
    position = model.position()
    expected = expected_rows(model, position)
    actual = table_rows(model)
    differences = []
    for name in CHECKED:
        differences += [Difference(name, "missing", row) for row in sorted(expected[name] - actual[name], key=repr)]
        differences += [Difference(name, "unexpected", row) for row in sorted(actual[name] - expected[name], key=repr)]
    return position, differences
