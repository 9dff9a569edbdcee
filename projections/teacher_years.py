"""`rm_teacher_years`: each teacher's sums per reporting year, what compliance reads instead of
scanning every credit and enrolment of a county.

A row is derived from the teacher's `rm_credits` (valid ones, by the credit's recorded year),
`rm_prior_hours` (valid earlier hours, by their year, counted like credits) and `rm_enrolments`
(by the reporting year, under the policy, of the programme's end date). It is
re-derived in SQL for every teacher a page of events touched, after the page's rows are written,
so it is exactly what those tables say (`concentrated_max_x10` is -1 when the year has no
concentrated credit; `cycle_x10` adds the hours of the cycle's earlier years, so compliance reads
one row per teacher); a rebuild derives all of them at once after loading.
Changing the policy's `year_starts` therefore needs `trainrec projections rebuild`.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.policy import Policy
from projections.db import Tx

COLUMNS = (
    "teacher_no, year, hours_x10, self_selected_x10, designated_x10, elective_x10, concentrated_max_x10, "
    "enrolments_counted, enrolments_attended, cycle_x10"
)
CHUNK = 500


def year_of_date_sql(column: str, policy: Policy) -> str:
    """SQL for the reporting year of an ISO date column (the same on SQLite and PostgreSQL)."""
    start = f"{policy.year_starts.month:02d}-{policy.year_starts.day:02d}"
    year = f"CAST(SUBSTR({column}, 1, 4) AS INTEGER)"
    return f"CASE WHEN SUBSTR({column}, 6, 5) >= '{start}' THEN {year} ELSE {year} - 1 END"


def cycle_of_year_sql(column: str, policy: Policy) -> str:
    """SQL for a number that is the same for every year of one cycle (integer division truncates,
    so the years are first moved well above the first cycle's start)."""
    length = policy.cycle.length_years
    return f"(({column} - {policy.cycle.first_start_year} + {1000 * length}) / {length})"


def _derive_sql(prefix: str, policy: Policy, among: str) -> str:
    school_based = "(selection = 'school_based' OR form = 'school_based')"
    return (
        f"INSERT INTO {prefix}teacher_years ({COLUMNS}) "
        # cycle_x10: the year's hours and those of the cycle's earlier years
        "SELECT teacher_no, year, h, s, d, el, cm, cnt, att, "
        f"SUM(h) OVER (PARTITION BY teacher_no, {cycle_of_year_sql('year', policy)} ORDER BY year) FROM ("
        "SELECT teacher_no, year, SUM(h) AS h, SUM(s) AS s, SUM(d) AS d, SUM(el) AS el, MAX(cm) AS cm, "
        "SUM(cnt) AS cnt, SUM(att) AS att FROM ("
        "SELECT teacher_no, year, hours_x10 AS h, "
        # 校本 hours never count as self-selected (docs/decisions.md)
        "CASE WHEN selection = 'self_selected' AND form <> 'school_based' THEN hours_x10 ELSE 0 END AS s, "
        f"CASE WHEN {school_based} AND school_based_content = 'designated' THEN hours_x10 ELSE 0 END AS d, "
        f"CASE WHEN {school_based} AND school_based_content = 'elective' THEN hours_x10 ELSE 0 END AS el, "
        "CASE WHEN form = 'concentrated' THEN hours_x10 ELSE -1 END AS cm, 0 AS cnt, 0 AS att "
        f"FROM {prefix}credits WHERE status = 'valid'{among} "
        # earlier hours count like a credit of their year: school-based as elective content, the
        # concentrated part as one concentrated credit (domain/rules/prior_hours.py)
        "UNION ALL SELECT teacher_no, year, hours_x10, self_selected_x10, 0, school_based_x10, "
        "CASE WHEN concentrated_x10 > 0 THEN concentrated_x10 ELSE -1 END, 0, 0 "
        f"FROM {prefix}prior_hours WHERE status = 'valid'{among} "
        f"UNION ALL SELECT teacher_no, {year_of_date_sql('ends_on', policy)}, 0, 0, 0, 0, -1, "
        "CASE WHEN absence_status = 'approved' THEN 0 ELSE 1 END, "
        "CASE WHEN absence_status = 'approved' OR sessions_present = 0 THEN 0 ELSE 1 END "
        f"FROM {prefix}enrolments WHERE 1 = 1{among}"
        ") facts GROUP BY teacher_no, year) sums"
    )


def derive(tx: Tx, prefix: str, policy: Policy, teacher_nos: Iterable[str]) -> None:
    """Re-derive the rows of `teacher_nos` from their credits and enrolments as written in `tx`."""
    names = sorted(set(teacher_nos))
    for start in range(0, len(names), CHUNK):
        chunk = names[start:start + CHUNK]
        marks = ", ".join("?" * len(chunk))
        tx.execute(f"DELETE FROM {prefix}teacher_years WHERE teacher_no IN ({marks})", chunk)
        tx.execute(_derive_sql(prefix, policy, f" AND teacher_no IN ({marks})"), chunk * 3)


def derive_all(tx: Tx, prefix: str, policy: Policy) -> None:
    """Derive every row at once (a rebuild, after loading the credits and enrolments)."""
    tx.execute(f"DELETE FROM {prefix}teacher_years")
    tx.execute(_derive_sql(prefix, policy, ""))
