"""Compliance as it stood at an instant: the statements `SchoolYears.compute` runs with `at`.

Each row of the tables says when it was recorded (`postings.recorded_at`, `enrolments.enrolled_at`,
`credits.awarded_at`, `marks.recorded_at`, …) and when what it says stopped holding
(`postings.until_recorded_at`, `credits.revoked_at`, `marks.superseded_at`), so the facts recorded
by an instant are a filter of the same tables, and the figures computed from them are those a
report made at that instant gave (tests/projections/test_as_of.py compares them with a store that
holds only the events recorded by then). `rm_teacher_years` holds today's sums only: these
statements add the credits and enrolments up themselves, for the members of the schools asked.

Instants are `records.instant` text (UTC, microseconds), which orders as the instants do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any


def members(p: str, at: str, end: str, among: str, among_args: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """(teacher_no, school_id) of the teachers whose posting in force on `end`, as recorded at `at`,
    is at one of the schools: a posting recorded by then, started by `end` as recorded then, not yet
    ended by a later one (or a departure) recorded by then."""
    # the first posting started on the hire date as recorded then: the one the first correction recorded
    # after `at` replaced, if any (rm_starts). One join rather than a lookup per posting: a county's
    # members are 100,000 postings and the corrections since a past instant few.
    replaced = (f"SELECT s.teacher_no, s.previous_from, ROW_NUMBER() OVER (PARTITION BY s.teacher_no "
                f"ORDER BY s.recorded_at) AS n FROM {p}starts s WHERE s.recorded_at > ?")
    return (
        f"SELECT ps.teacher_no, ps.school_id FROM {p}postings ps LEFT JOIN ({replaced}) st "
        "ON st.teacher_no = ps.teacher_no AND st.n = 1 AND ps.seq = 1 "
        "WHERE ps.recorded_at <= ? AND COALESCE(st.previous_from, ps.from_date) <= ? "
        "AND (ps.until_date IS NULL OR ps.until_date > ? OR ps.until_recorded_at > ?) "
        f"AND ps.school_id IN ({among})",
        (at, at, end, end, at, *among_args),
    )


def _of_members(among_all: bool) -> str:
    """The condition restricting a scan to the members of `m`: none when the unit asked holds
    (nearly) every teacher on record, whose rows are then summed whole and joined to the members
    after (a hash of 100,000 members probed 700,000 times costs more than the rows it would spare)."""
    return "" if among_all else " AND teacher_no IN (SELECT teacher_no FROM m)"


# A credit's tenths of an hour as a 4-byte integer: PostgreSQL sums those in a 64-bit integer, but
# sums 8-byte ones in `numeric` (a third of a county's as-of time went to that).
H = "CAST(hours_x10 AS INTEGER)"


def _valid_hours(p: str, among_all: bool) -> str:
    """The members' credits and earlier hours of the cycle's years up to the year, recorded by `at`
    and not revoked by then, each as its contributions (teacher_no, year, h, s, d, el, cm) as
    `rm_teacher_years` counts them: 校本 hours never self-selected; earlier hours like one credit of
    their year, their school-based part as elective content, their concentrated part as one
    concentrated credit (domain/rules/prior_hours.py)."""
    school_based = "(selection = 'school_based' OR form = 'school_based')"
    return (
        f"SELECT teacher_no, year, {H} AS h, "
        f"CASE WHEN selection = 'self_selected' AND form <> 'school_based' THEN {H} ELSE 0 END AS s, "
        f"CASE WHEN {school_based} AND school_based_content = 'designated' THEN {H} ELSE 0 END AS d, "
        f"CASE WHEN {school_based} AND school_based_content = 'elective' THEN {H} ELSE 0 END AS el, "
        f"CASE WHEN form = 'concentrated' THEN {H} ELSE -1 END AS cm "
        f"FROM {p}credits WHERE year BETWEEN ? AND ?{_of_members(among_all)} "
        "AND awarded_at <= ? AND (revoked_at IS NULL OR revoked_at > ?) "
        "UNION ALL SELECT teacher_no, year, CAST(hours_x10 AS INTEGER), CAST(self_selected_x10 AS INTEGER), 0, "
        "CAST(school_based_x10 AS INTEGER), CASE WHEN concentrated_x10 > 0 THEN CAST(concentrated_x10 AS INTEGER) "
        "ELSE -1 END "
        f"FROM {p}prior_hours WHERE year BETWEEN ? AND ?{_of_members(among_all)} "
        "AND recorded_at <= ? AND (revoked_at IS NULL OR revoked_at > ?)"
    )


def _not_excused(alias: str) -> str:
    return f"({alias}.absence_approved_at IS NULL OR {alias}.absence_approved_at > ?)"


def per_member(p: str, at: str, year: int, today: date, first: date, last: date, cycle_start: int,
               assessment_before: date, evaluation_before: date, among_all: bool = False
               ) -> tuple[str, tuple[Any, ...]]:
    """One row per member of `m`: (school_id, teacher_no, h, s, d, el, cm, cnt, att, cy, oa, oe) as
    `rm_teacher_years` would have held them at `at` (docs/decisions.md: 校本 hours never count as
    self-selected; participation counts programmes of the year ended before the report's day), and
    the member's enrolments overdue at `at`: `oa` not excused, past the assessment deadline
    (programmes ended before `assessment_before`) without an assessment recorded by then, `oe`
    assessed by then, past the evaluation deadline, without an evaluation recorded by then.
    `among_all`: the members are (nearly) every teacher on record (`_of_members`)."""
    this_year = "c.year = ?"
    credit_sums = (
        "SELECT c.teacher_no, "
        f"SUM(CASE WHEN {this_year} THEN c.h ELSE 0 END) AS h, SUM(CASE WHEN {this_year} THEN c.s ELSE 0 END) AS s, "
        f"SUM(CASE WHEN {this_year} THEN c.d ELSE 0 END) AS d, SUM(CASE WHEN {this_year} THEN c.el ELSE 0 END) AS el, "
        f"MAX(CASE WHEN {this_year} THEN c.cm ELSE -1 END) AS cm, SUM(c.h) AS cy "
        f"FROM ({_valid_hours(p, among_all)}) c GROUP BY c.teacher_no"
    )
    credit_args = (year, year, year, year, year, cycle_start, year, at, at, cycle_start, year, at, at)
    # attended by then: its first present mark recorded by then, unless a mark of it was ever corrected
    # (then the marks standing at `at` say, from rm_marks: corrections are rare, marks many)
    attended = (
        f"(CASE WHEN e.marks_corrected = 1 THEN (CASE WHEN EXISTS (SELECT 1 FROM {p}marks k WHERE k.teacher_no = "
        "e.teacher_no AND k.programme_code = e.programme_code AND k.present = 1 AND k.recorded_at <= ? AND "
        "(k.superseded_at IS NULL OR k.superseded_at > ?)) THEN 1 ELSE 0 END) WHEN e.attended_at <= ? THEN 1 "
        "ELSE 0 END) = 1"
    )
    unassessed = "(e.assessed_at IS NULL OR e.assessed_at > ?)"
    participation = (
        "SELECT e.teacher_no, "
        f"SUM(CASE WHEN {_not_excused('e')} THEN 1 ELSE 0 END) AS cnt, "
        f"SUM(CASE WHEN {_not_excused('e')} AND {attended} THEN 1 ELSE 0 END) AS att, "
        f"SUM(CASE WHEN {_not_excused('e')} AND e.ends_on < ? AND {unassessed} THEN 1 ELSE 0 END) AS oa, "
        f"SUM(CASE WHEN {_not_excused('e')} AND e.ends_on < ? AND e.assessed_at <= ? "
        "AND (e.evaluated_at IS NULL OR e.evaluated_at > ?) THEN 1 ELSE 0 END) AS oe "
        f"FROM {p}enrolments e WHERE e.enrolled_at <= ?"
        f"{_of_members(among_all).replace('teacher_no', 'e.teacher_no', 1)} "
        # the overdue deadlines lie before the report's day, so its enrolments are among these
        "AND e.ends_on >= ? AND e.ends_on <= ? AND e.ends_on < ? GROUP BY e.teacher_no"
    )
    participation_args = (at, at, at, at, at, at, assessment_before.isoformat(), at, at,
                          evaluation_before.isoformat(), at, at, at, first.isoformat(), last.isoformat(),
                          max(today, first).isoformat())
    return (
        "SELECT m.school_id, m.teacher_no, COALESCE(y.h, 0) AS h, COALESCE(y.s, 0) AS s, COALESCE(y.d, 0) AS d, "
        "COALESCE(y.el, 0) AS el, COALESCE(y.cm, -1) AS cm, COALESCE(pa.cnt, 0) AS cnt, COALESCE(pa.att, 0) AS att, "
        "COALESCE(y.cy, 0) AS cy, COALESCE(pa.oa, 0) AS oa, COALESCE(pa.oe, 0) AS oe "
        f"FROM m LEFT JOIN ({credit_sums}) y ON y.teacher_no = m.teacher_no "
        f"LEFT JOIN ({participation}) pa ON pa.teacher_no = m.teacher_no",
        (*credit_args, *participation_args),
    )


def overdue_enrolments(p: str, at: str, today: date, first: date, last: date, assessment_before: date,
                       evaluation_before: date) -> tuple[str, tuple[Any, ...]]:
    """(teacher_no, 'assessment' | 'evaluation', programme_code) of each enrolment of the members of
    `m` that `per_member` counts in `oa` or `oe` at `at` (the same conditions, one row each)."""
    scope = (f"FROM {p}enrolments e WHERE e.enrolled_at <= ? AND e.teacher_no IN (SELECT teacher_no FROM m) "
             f"AND e.ends_on >= ? AND e.ends_on <= ? AND e.ends_on < ? AND {_not_excused('e')} AND e.ends_on < ?")
    scope_args = (at, first.isoformat(), last.isoformat(), max(today, first).isoformat(), at)
    return (
        f"SELECT e.teacher_no, 'assessment', e.programme_code {scope} AND (e.assessed_at IS NULL OR e.assessed_at > ?) "
        f"UNION ALL SELECT e.teacher_no, 'evaluation', e.programme_code {scope} AND e.assessed_at <= ? "
        "AND (e.evaluated_at IS NULL OR e.evaluated_at > ?)",
        (*scope_args, assessment_before.isoformat(), at, *scope_args, evaluation_before.isoformat(), at, at),
    )
