"""Which events recorded after an instant moved a unit's figures for a year (`compliance/changes`).

The unit's schools' sums are taken as recorded at `since`, then the teacher events recorded after it
are walked in recorded order, one recording instant at a time (the events of one write share it):
for each instant the sums of the schools its teachers were ever posted at are computed again as
recorded at that instant, and the unit's figures from all the schools' sums. The events of an
instant are named when the figures differ from those before it. Every step is judged on one day
(the report's today), so a figure that moved only because a day passed (a programme ending, a
deadline) is not laid at any event's door; the walk's last figures are those of the report today.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any

from domain.policy import Policy
from domain.teacher import Teacher
from projections.db import LIKE_ESCAPE, ReadModelDB, Tx, like_prefix
from projections.school_years import SchoolYear, SchoolYears
from projections.teacher_years import CHUNK


@dataclass(frozen=True)
class Change:
    """An event (by its log position) recorded after `since` that moved one of the figures."""

    position: int
    type: str
    teacher_no: str
    recorded_at: str
    occurred_on: str
    late_entry: bool
    actor: dict[str, str]


def changes_since(db: ReadModelDB, prefix: str, policy: Policy, path: str, year: int, today: date, since: str,
                  figures: Any, decode: Callable[[list[int]], dict[int, Any]]) -> list[Change]:
    """The events recorded after the instant `since` (`records.instant` text) that moved the figures of
    the unit at `path` for `year`. `figures(found)` gives the unit's figures from (org_id, path,
    values) rows, as `Reports` rolls them up; `decode(positions)` the events at those log positions
    (only the writes holding an event that can touch the year are walked: `_touches`)."""
    p = prefix
    school_years = SchoolYears(db, p, policy)
    with db.snapshot() as tx:
        paths = {str(r[0]): str(r[1]) for r in tx.query(
            f"SELECT org_id, path FROM {p}orgs WHERE path LIKE ? {LIKE_ESCAPE}", (like_prefix(path),))}
        events = tx.query(
            f"SELECT a.position, a.type, a.teacher_no, a.recorded_at, a.occurred_on, a.late_entry, a.actor_sub, "
            f"a.actor_role FROM {p}audit a WHERE a.aggregate = 'teacher' AND a.recorded_at > ? AND a.teacher_no IN "
            f"(SELECT ps.teacher_no FROM {p}postings ps JOIN {p}orgs o ON o.org_id = ps.school_id "
            f"WHERE o.path LIKE ? {LIKE_ESCAPE}) ORDER BY a.recorded_at, a.position",
            (since, like_prefix(path)))
        schools_of: dict[str, set[str]] = {}
        for teacher_no, school_id in tx.query(
                f"SELECT DISTINCT ps.teacher_no, ps.school_id FROM {p}postings ps JOIN {p}orgs o "
                f"ON o.org_id = ps.school_id WHERE o.path LIKE ? {LIKE_ESCAPE}", (like_prefix(path),)):
            schools_of.setdefault(str(teacher_no), set()).add(str(school_id))
        touching = _touches(tx, p, policy, year, decode([int(row[0]) for row in events]))
        sums: dict[str, SchoolYear] = school_years.compute(tx, year, today, None, path, since)
        before = figures(_found(paths, sums))
        moved: list[Change] = []
        for at, group in groupby(events, key=lambda row: str(row[3])):
            rows = list(group)
            if not any(int(row[0]) in touching for row in rows):
                continue
            schools = sorted({school for row in rows for school in schools_of.get(str(row[2]), ())})
            sums = {**sums, **school_years.compute(tx, year, today, schools, path, at)}
            after = figures(_found(paths, sums))
            if after != before:
                moved += [Change(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), bool(r[5]),
                                 {"sub": str(r[6]), "role": str(r[7])}) for r in rows]
            before = after
    return moved


def _touches(tx: Tx, p: str, policy: Policy, year: int, events: dict[int, Any]) -> set[int]:
    """The positions of the events that can move a figure of `year`: who belongs where (registrations,
    transfers, corrections, departures), the credits and earlier hours of the cycle's years up to it,
    and anything about an enrolment in a programme ending in it. Disputes opened, absences requested
    and the like move nothing by themselves (a resolution's credits are events of their own)."""
    first, last = policy.year_bounds(year)
    cycle_start, _ = policy.cycle_of(year)
    codes = {str(e.programme_code) for e in events.values() if hasattr(e, "programme_code")}
    ends = {str(r[0]): str(r[1]) for r in _in(tx, f"SELECT code, ends_on FROM {p}programmes WHERE code IN", codes)}
    credit_years = {str(r[0]): int(r[1]) for r in _in(
        tx, f"SELECT credit_id, year FROM {p}credits WHERE credit_id IN",
        {str(e.credit_id) for e in events.values() if isinstance(e, Teacher.CreditRevoked)})}
    prior_years = {str(r[0]): int(r[1]) for r in _in(
        tx, f"SELECT record_id, year FROM {p}prior_hours WHERE record_id IN",
        {str(e.record_id) for e in events.values() if isinstance(e, Teacher.PriorHoursRevoked)})}

    def in_year(code: str) -> bool:
        return code in ends and first.isoformat() <= ends[code] <= last.isoformat()

    def touches(e: Any) -> bool:
        if isinstance(e, (Teacher.Registered, Teacher.Transferred, Teacher.Corrected, Teacher.Departed)):
            return True
        if isinstance(e, Teacher.CreditAwarded | Teacher.PriorHoursRecorded):
            return cycle_start <= int(e.year) <= year
        if isinstance(e, Teacher.CreditRevoked):
            return cycle_start <= credit_years.get(str(e.credit_id), year) <= year
        if isinstance(e, Teacher.PriorHoursRevoked):
            return cycle_start <= prior_years.get(str(e.record_id), year) <= year
        if isinstance(e, Teacher.Enrolled):
            return in_year(str(e.programme["code"]))
        if isinstance(e, (Teacher.AbsenceDecided, Teacher.AttendanceRecorded, Teacher.Assessed, Teacher.Evaluated,
                          Teacher.EnrolmentWithdrawn)):
            return in_year(str(e.programme_code))
        return False

    return {position for position, event in events.items() if touches(event)}


def _in(tx: Tx, statement: str, values: set[str]) -> list[Any]:
    """`statement` ending in `IN` over `values`, in chunks."""
    found: list[Any] = []
    ordered = sorted(values)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        found += tx.query(f"{statement} ({', '.join('?' * len(chunk))})", chunk)
    return found


def _found(paths: dict[str, str], sums: dict[str, SchoolYear]) -> list[tuple[str, str, Any]]:
    return [(school, paths[school], values.values()) for school, values in sorted(sums.items())]
