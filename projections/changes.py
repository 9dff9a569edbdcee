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

from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any

from domain.policy import Policy
from projections.db import LIKE_ESCAPE, ReadModelDB, like_prefix
from projections.school_years import SchoolYear, SchoolYears


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
                  figures: Any) -> list[Change]:
    """The events recorded after the instant `since` (`records.instant` text) that moved the figures of
    the unit at `path` for `year`. `figures(found)` gives the unit's figures from (org_id, path,
    values) rows, as `Reports` rolls them up."""
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
        sums: dict[str, SchoolYear] = school_years.compute(tx, year, today, None, path, since)
        before = figures(_found(paths, sums))
        moved: list[Change] = []
        for at, group in groupby(events, key=lambda row: str(row[3])):
            rows = list(group)
            schools = sorted({school for row in rows for school in schools_of.get(str(row[2]), ())})
            sums = {**sums, **school_years.compute(tx, year, today, schools, path, at)}
            after = figures(_found(paths, sums))
            if after != before:
                moved += [Change(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), bool(r[5]),
                                 {"sub": str(r[6]), "role": str(r[7])}) for r in rows]
            before = after
    return moved


def _found(paths: dict[str, str], sums: dict[str, SchoolYear]) -> list[tuple[str, str, Any]]:
    return [(school, paths[school], values.values()) for school, values in sorted(sums.items())]
