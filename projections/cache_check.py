"""The caches that compliance answers are served from, checked against the tables they are derived
from (part of the read-model check, `/audit/verify?scope=readmodel`).

`rm_school_years` (each school's sums of a year) and `rm_unit_years` (a town's or county's whole
answer and its summary) are not the log's effect but what reads computed from the tables: a
replay does not give them, so they are compared instead with what the tables give now. Only the
rows a read would serve are compared (a stale row is never served: the next read computes it
again): a school's row is recomputed from the tables in the same snapshot; a unit's stored answer
is computed again from every school's sums (computed too, not read from the cached rows) and
compared with the stored JSON text, byte for byte, and its summary likewise. An edited cached row
or answer is a `changed` difference of table `school_years` or `unit_years`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from domain.policy import Policy
from projections.db import ReadModelDB, Tx
from projections.readmodel_check import RowDifference
from projections.reports import Reports, answer_json, summary_of
from projections.school_years import VALUES, SchoolYears, State
from projections.unit_answers import answer_version, stored_answer

SNIPPET = 60  # characters of a differing answer shown on each side of the first difference


def cache_differences(db: ReadModelDB, tx: Tx, prefix: str, policy: Policy, today: date
                      ) -> tuple[int, list[RowDifference]]:
    """(cached rows compared, their differences) in the snapshot `tx` of `db`, for the rows served `today`."""
    state = State.read(tx, prefix)
    if not state.trusted:
        return 0, []  # nothing cached is served until pages are marked again
    rows, found = _school_rows(db, tx, prefix, policy, state, today)
    answers, differ = _unit_answers(db, tx, prefix, policy, state, today)
    return rows + answers, found + differ


def _school_rows(db: ReadModelDB, tx: Tx, prefix: str, policy: Policy, state: State, today: date
                 ) -> tuple[int, list[RowDifference]]:
    p = prefix
    served = tx.query(
        f"SELECT sy.year, sy.school_id, {', '.join(f'sy.{c}' for c in VALUES)} FROM {p}school_years sy "
        "WHERE sy.today = ? AND sy.policy_version = ? AND sy.position >= ? AND NOT EXISTS (SELECT 1 FROM "
        f"{p}school_changes c WHERE c.school_id = sy.school_id AND c.position > sy.position) "
        "ORDER BY sy.year, sy.school_id", (today.isoformat(), policy.version, state.valid_from))
    by_year: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in served:
        by_year[int(row[0])].append(tuple(row))
    school_years = SchoolYears(db, p, policy)
    differences = []
    for year, rows in by_year.items():
        computed = school_years.compute(tx, year, today, [str(row[1]) for row in rows], "/")
        for row in rows:
            stored, expected = row[2:], computed[str(row[1])].values()
            column = next((i for i, (a, b) in enumerate(zip(stored, expected, strict=True)) if a != b), None)
            if column is not None:
                differences.append(RowDifference("school_years", "changed", {"year": year, "school_id": row[1]},
                                                 VALUES[column], stored[column], expected[column]))
    return len(served), differences


def _unit_answers(db: ReadModelDB, tx: Tx, prefix: str, policy: Policy, state: State, today: date
                  ) -> tuple[int, list[RowDifference]]:
    p = prefix
    version = answer_version(policy.version)
    stored = tx.query(
        f"SELECT u.year, u.org_id, o.path, u.summary FROM {p}unit_years u JOIN {p}orgs o ON o.org_id = u.org_id "
        "WHERE u.today = ? AND u.policy_version = ? ORDER BY u.year, u.org_id", (today.isoformat(), version))
    reports = Reports(db, p, policy)
    compared, differences = 0, []
    for year, org_id, path, summary in stored:
        answer = stored_answer(tx, p, state, str(org_id), str(path), int(year), today, version)
        if answer is None:
            continue  # stale: never served
        compared += 1
        result = reports.answer_in(tx, str(org_id), int(year), today)
        key = {"year": int(year), "org_id": str(org_id)}
        for column, kept, expected in (("answer", answer, None if result is None else answer_json(result)),
                                       ("summary", str(summary),
                                        None if result is None else answer_json(summary_of(result)))):
            if kept != expected:
                differences.append(RowDifference("unit_years", "changed", key, column, *_around(kept, expected)))
    return compared, differences


def _around(kept: str, expected: str | None) -> tuple[str, str | None]:
    """The two texts near where they first differ (an answer is megabytes)."""
    if expected is None:
        return kept[:2 * SNIPPET], None
    shorter = min(len(kept), len(expected))
    at = next((i for i, (a, b) in enumerate(zip(kept, expected, strict=False)) if a != b), shorter)
    start = max(0, at - SNIPPET)
    return f"…{kept[start:at + SNIPPET]}…", f"…{expected[start:at + SNIPPET]}…"
