"""Answers read from the read-model tables: transcript, roster, compliance.

Compliance follows docs/domain.md "Compliance figures"; every figure carries its
numerator and denominator so it reconciles, and the teachers behind each shortfall.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import orjson

from domain.policy import Policy
from projections.changes import Change, changes_since
from projections.cursors import encode_cursor
from projections.db import LIKE_ESCAPE, ReadModelDB, Tx, like_prefix
from projections.records import instant
from projections.school_years import (
    COUNTS,
    LISTS,
    NUMBERS,
    OVERDUE_ASSESSMENT_TEACHERS,
    OVERDUE_ASSESSMENTS,
    OVERDUE_EVALUATION_TEACHERS,
    OVERDUE_EVALUATIONS,
    RULES_SHORT,
    SEPARATOR,
    SchoolYears,
    State,
    Values,
)
from projections.shortfall_members import member_figures
from projections.unit_answers import KEPT_KINDS, answer_version, stale_answers, store_answer, stored_answer

# The teachers each shortfall of an answer names (number, name, school): the first page of the list,
# in teacher-number order; `teachers_next` is the cursor of the rest (`Reports.shortfall_page`).
# `teacher_nos` still lists them all. A county's answer with every short teacher named was 32 MB
# at 100k teachers (docs/decisions.md "Named shortfalls, paged").
SHORTFALL_PAGE = 50


def hours(x10: int) -> int | float:
    value = Decimal(x10) / 10
    return int(value) if value == value.to_integral_value() else float(value)


def answer_json(answer: dict[str, Any]) -> str:
    """An answer as JSON text, as the API writes it (UTF-8 names as they are, no spaces; orjson:
    a county's answer is megabytes, which the standard library writes and reads 2-5 times slower)."""
    return orjson.dumps(answer).decode()


def summary_of(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer as a page shows it: each shortfall with its count and first named teachers, without
    the whole list of `teacher_nos` (unit_answers.py)."""
    if not answer.get("shortfalls"):
        return answer
    shortfalls = [{key: value for key, value in item.items() if key != "teacher_nos"}
                  for item in answer["shortfalls"]]
    return {**answer, "shortfalls": shortfalls}


# The column of a school's row that lists the teachers behind each shortfall.
LIST_COLUMN = {**dict(zip(RULES_SHORT, range(LISTS.start, LISTS.stop), strict=True)),
               "overdue_assessments": OVERDUE_ASSESSMENT_TEACHERS, "overdue_evaluations": OVERDUE_EVALUATION_TEACHERS}


def shortfall_slice(found: list[tuple[str, str, Values]], rule: str, after: str | None, limit: int
                    ) -> tuple[list[tuple[str, str]], bool]:
    """The first `limit` teachers of `rule`'s shortfall after teacher number `after`, each with the
    school whose row lists them, from the schools' rows (`found`), and whether more follow. The same
    page as the whole list sorted (`Tally.order`, `Tally.page`) without building it: each school's list
    is in order, so only its first `limit` numbers after `after` can be on the page (at a county of
    100k teachers: 2,000 short lists cut, rather than 400k numbers of nine lists joined and sorted)."""
    column = LIST_COLUMN[rule]
    picked: list[tuple[str, str]] = []
    remaining = 0
    for school, _, values in found:
        if not values[0] or not values[column]:
            continue
        nos = str(values[column]).split(SEPARATOR)
        first = 0 if after is None else bisect_right(nos, after)
        remaining += len(nos) - first
        picked.extend((no, school) for no in nos[first:first + limit])
    picked.sort()
    shown = picked[:limit]
    return shown, remaining > len(shown)


def ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    if denominator == 0:
        return None
    return float((numerator / denominator).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


class Reports:
    def __init__(self, db: ReadModelDB, prefix: str, policy: Policy) -> None:
        self.db = db
        self.p = prefix
        self.policy = policy

    # --- transcript ----------------------------------------------------------------------
    def teacher_ref(self, teacher_no: str) -> TeacherRow | None:
        rows = self.db.query(f"SELECT teacher_no, school_id FROM {self.p}teachers WHERE teacher_no = ?", (teacher_no,))
        return TeacherRow(str(rows[0][0]), str(rows[0][1])) if rows else None

    def transcript(self, teacher_no: str, today: date, viewer_is_trainee: bool) -> dict[str, Any] | None:
        p = self.p
        teacher = self.db.query(f"SELECT name, school_id, departed_on, departure_kind FROM {p}teachers "
                                "WHERE teacher_no = ?", (teacher_no,))
        if not teacher:
            return None
        pending = sorted(r[0] for r in self.db.query(
            f"SELECT programme_code FROM {p}enrolments WHERE teacher_no = ? AND assessment_result IS NOT NULL "
            "AND evaluated_at IS NULL", (teacher_no,)))
        hidden = set(pending) if viewer_is_trainee else set()
        rows = self.db.query(
            f"SELECT credit_id, programme_code, title, level, form, selection, school_based_content, hours_x10, "
            "credits_x100, year, awarded_on, certified_by, certifier_role, school_id, event_id, policy_version, "
            f"status, revoked_event_id, awarded_at FROM {p}credits WHERE teacher_no = ? ORDER BY awarded_at, credit_id",
            (teacher_no,),
        )
        lines = []
        by_year: dict[int, dict[str, int]] = defaultdict(
            lambda: {"hours": 0, "self_selected": 0, "school_based": 0, "concentrated": 0})
        for r in rows:
            if r[1] in hidden:
                continue
            lines.append({
                "credit_id": r[0], "programme_code": r[1], "title": r[2], "level": r[3], "form": r[4],
                "selection": r[5], "hours": hours(r[7]), "credits": float(Decimal(r[8]) / 100)
                if r[8] % 100 else r[8] // 100, "year": r[9], "awarded_on": r[10], "certified_by": r[11],
                "certifier_role": r[12], "school_id": r[13], "event_id": r[14], "policy_version": r[15],
                "status": r[16], "revoked_event_id": r[17],
            })
            if r[16] != "valid":
                continue
            totals = by_year[int(r[9])]
            totals["hours"] += r[7]
            if r[5] == "self_selected" and r[4] != "school_based":
                totals["self_selected"] += r[7]
            if r[5] == "school_based" or r[4] == "school_based":
                totals["school_based"] += r[7]
            if r[4] == "concentrated":
                totals["concentrated"] += r[7]
        prior = []
        for r in self.db.query(
            f"SELECT record_id, year, hours_x10, self_selected_x10, school_based_x10, concentrated_x10, source, "
            f"event_id, status, revoked_event_id FROM {p}prior_hours WHERE teacher_no = ? "
            "ORDER BY recorded_at, record_id", (teacher_no,),
        ):
            prior.append({
                "record_id": r[0], "year": r[1], "hours": hours(r[2]), "self_selected": hours(r[3]),
                "school_based": hours(r[4]), "concentrated": hours(r[5]), "source": r[6], "event_id": r[7],
                "status": r[8], "revoked_event_id": r[9],
            })
            if r[8] != "valid":
                continue
            totals = by_year[int(r[1])]  # earlier hours count like a credit of their year
            for name, x10 in (("hours", r[2]), ("self_selected", r[3]), ("school_based", r[4]),
                              ("concentrated", r[5])):
                totals[name] += x10
        start, end = self.policy.cycle_of(self.policy.year_of(today))
        cycle_x10 = sum(t["hours"] for y, t in by_year.items() if start <= y <= end)
        disputes = self.db.query(
            f"SELECT dispute_id FROM {p}disputes WHERE teacher_no = ? AND decision IS NULL ORDER BY dispute_id",
            (teacher_no,))
        required = self.policy.cycle.required
        return {
            "teacher_no": teacher_no,
            "name": teacher[0][0],
            "school_id": teacher[0][1],
            "departure": None if teacher[0][2] is None else {"kind": teacher[0][3], "effective_on": teacher[0][2]},
            "lines": lines,
            "prior": prior,
            "totals": {
                "by_year": {str(y): {k: hours(v) for k, v in t.items()} for y, t in sorted(by_year.items())},
                "cycle": {"start_year": start, "end_year": end, "hours": hours(cycle_x10),
                          "required": int(required) if required == required.to_integral_value() else float(required)},
            },
            "pending_evaluation": pending,
            "open_disputes": [d[0] for d in disputes],
            "policy_version": self.policy.version,
        }

    def enrolled_teachers(self, code: str, at: str) -> list[str]:
        """The teachers with an enrolment in `code` recorded by the instant `at` and not withdrawn since
        (a withdrawn enrolment's row is gone: see `withdrawals_after`)."""
        return [str(r[0]) for r in self.db.query(
            f"SELECT teacher_no FROM {self.p}enrolments WHERE programme_code = ? AND enrolled_at <= ? "
            "ORDER BY teacher_no", (code, at))]

    def withdrawals_after(self, at: str) -> list[tuple[int, str]]:
        """(log position, teacher_no) of every enrolment withdrawn after the instant `at`."""
        return [(int(r[0]), str(r[1])) for r in self.db.query(
            f"SELECT position, teacher_no FROM {self.p}audit WHERE type = 'EnrolmentWithdrawn' AND recorded_at > ? "
            "ORDER BY position", (at,))]

    def corrected_after(self, at: str) -> set[str]:
        """The teachers whose registration was corrected after the instant `at` (names among them)."""
        return {str(r[0]) for r in self.db.query(
            f"SELECT DISTINCT teacher_no FROM {self.p}audit WHERE type = 'Corrected' AND recorded_at > ? "
            "AND teacher_no IS NOT NULL", (at,))}

    # --- roster --------------------------------------------------------------------------
    def roster(self, code: str, today: date, held: int | None = None) -> dict[str, Any] | None:
        """The roster of programme `code` as of `today`. `held`: the programme's sessions dated on or
        before `today`, the denominator of the attendance rates (sessions not yet held are nobody's
        absence); None: all of them (a programme that has ended)."""
        p = self.p
        programme = self.db.query(
            f"SELECT title, ends_on, session_count, provider_id, owner_org_id FROM {p}programmes WHERE code = ?",
            (code,))
        if not programme:
            return None
        title, ends_on_text, session_count, provider_id, owner_org_id = programme[0]
        ends_on = date.fromisoformat(ends_on_text)
        held = session_count if held is None else min(held, session_count)
        rows = self.db.query(
            f"SELECT e.teacher_no, t.name, t.school_id, e.substitutes_for, e.absence_kind, e.absence_status, "
            "e.substitute_teacher_no, e.sessions_present, e.sessions_marked, e.assessment_result, e.assessment_late, "
            f"e.evaluated_at, e.evaluation_late FROM {p}enrolments e JOIN {p}teachers t ON t.teacher_no = e.teacher_no "
            "WHERE e.programme_code = ? ORDER BY e.teacher_no",
            (code,),
        )
        assessment_overdue = today > self.policy.assessment_due(ends_on)
        evaluation_overdue = today > self.policy.evaluation_due(ends_on)
        enrolled, absences, overdue_a, overdue_e = [], [], [], []
        attended = excused = assessed = evaluated = 0
        for r in rows:
            absent = r[5] == "approved"
            excused += absent
            attended += (not absent) and r[7] > 0
            assessed += r[9] is not None
            evaluated += r[11] is not None
            enrolled.append({
                "teacher_no": r[0], "name": r[1], "school_id": r[2], "substitutes_for": r[3],
                "absence": None if r[4] is None else {"kind": r[4], "status": r[5], "substitute_teacher_no": r[6]},
                "sessions_present": r[7], "sessions_marked": r[8],
                "attendance_rate": ratio(Decimal(r[7]), Decimal(held)),
                "assessment": None if r[9] is None else {"result": r[9], "late": bool(r[10])},
                "evaluated": r[11] is not None, "evaluation_late": None if r[12] is None else bool(r[12]),
            })
            if r[4] is not None:
                absences.append({"teacher_no": r[0], "kind": r[4], "status": r[5], "substitute_teacher_no": r[6]})
            if not absent and r[9] is None and assessment_overdue:
                overdue_a.append(r[0])
            if r[9] is not None and r[11] is None and evaluation_overdue:
                overdue_e.append(r[0])
        counted = len(rows) - excused
        present_total = sum(e["sessions_present"] for e in enrolled)
        return {
            "code": code, "title": title, "provider_id": provider_id, "owner_org_id": owner_org_id,
            "ends_on": ends_on_text, "sessions": session_count, "sessions_held": held,
            "enrolled": enrolled, "absences": absences,
            "assessed": [e["teacher_no"] for e in enrolled if e["assessment"] is not None],
            "evaluated": [e["teacher_no"] for e in enrolled if e["evaluated"]],
            "counts": {"enrolled": len(rows), "approved_absences": excused, "attended": attended,
                       "assessed": assessed, "evaluated": evaluated},
            "attendance_rate": ratio(Decimal(present_total), Decimal(counted * held)),
            "participation_rate": ratio(Decimal(attended), Decimal(counted)),
            "overdue_assessments": overdue_a, "overdue_evaluations": overdue_e,
            "policy_version": self.policy.version,
        }

    # --- compliance ----------------------------------------------------------------------
    def compliance(self, org_id: str, year: int, today: date, children: bool = True, at: datetime | None = None
                   ) -> dict[str, Any] | None:
        """The unit's figures and, with `children`, each child unit's, from per-school sums. `at`: as
        they stood at that instant (`today` is then its date), from what was recorded by then."""
        if at is not None:
            return self._compliance_at(org_id, year, today, children, instant(at))
        text, result = self._compliance(org_id, year, today, children)
        return orjson.loads(text) if result is None and text is not None else result

    def compliance_summary(self, org_id: str, year: int, today: date) -> dict[str, Any] | None:
        """`compliance` with its children, each shortfall counted and its first teachers named but
        without every teacher's number (`summary_of`): a unit above the schools reads the summary
        stored beside its answer, some kB where the answer is megabytes."""
        text, result = self._compliance(org_id, year, today, True, summary=True)
        if result is not None:
            return summary_of(result)
        return None if text is None else orjson.loads(text)

    def add_grandchildren(self, result: dict[str, Any], year: int, today: date, at: datetime | None = None) -> None:
        """`?depth=2`: each child of the answer `result` with its own children's figures, from the
        child's own answer (stored, for a unit above the schools); a school's children are none."""
        for kid in result.get("children", []):
            answer = None if kid["kind"] == "school" else self.compliance(kid["org_id"], year, today, at=at)
            kid["children"] = [] if answer is None else answer.get("children", [])

    def compliance_json(self, org_id: str, year: int, today: date) -> str | None:
        """`compliance` as the JSON text an API answer gives (a stored answer is not parsed)."""
        text, result = self._compliance(org_id, year, today, True)
        return text if text is not None or result is None else answer_json(result)

    def _compliance(self, org_id: str, year: int, today: date, children: bool, summary: bool = False
                    ) -> tuple[str | None, dict[str, Any] | None]:
        """(stored or kept JSON text, computed answer): a unit above the schools answers from its
        stored answer while that is still what the roll-up would give (projections/unit_answers.py),
        else computes it and keeps it. (None, None) for an org not in the tables."""
        school_years = SchoolYears(self.db, self.p, self.policy)
        with self.db.snapshot() as tx:  # the org, its children and the school rows of one state
            state = State.read(tx, self.p)
            orgs = tx.query(f"SELECT name, kind, path FROM {self.p}orgs WHERE org_id = ?", (org_id,))
            if not orgs:
                return None, None
            name, kind, path = (str(value) for value in orgs[0])
            kept = children and kind in KEPT_KINDS
            if kept:
                answer = stored_answer(tx, self.p, state, org_id, path, year, today,
                                       answer_version(self.policy.version), summary)
                if answer is not None:
                    return answer, None
            kids = tx.query(
                f"SELECT org_id, name, kind FROM {self.p}orgs WHERE parent_id = ? AND kind <> 'provider' "
                "ORDER BY org_id", (org_id,)) if children else []
            units = [path] + [f"{path}{kid[0]}/" for kid in kids]
            found, computed = school_years.read_in(tx, state, path, year, today)
        school_years.keep(state, year, today, computed)
        result = self._answer(org_id, name, kind, year, units, found, kids if children else None)
        text = None
        if kept:
            text = answer_json(result)
            store_answer(self.db, self.p, state, org_id, year, today, answer_version(self.policy.version),
                         text, answer_json(summary_of(result)))
        return text, result

    def _compliance_at(self, org_id: str, year: int, today: date, children: bool, at: str) -> dict[str, Any] | None:
        """`compliance` as recorded at `at`: every school's sums computed from the rows recorded by then
        (projections/as_of.py); no cached row or stored answer holds them. The units are named as
        they are today (the service names them as they were then: org units are only renamed)."""
        with self.db.snapshot() as tx:
            orgs = tx.query(f"SELECT name, kind, path FROM {self.p}orgs WHERE org_id = ?", (org_id,))
            if not orgs:
                return None
            name, kind, path = (str(value) for value in orgs[0])
            kids = tx.query(
                f"SELECT org_id, name, kind FROM {self.p}orgs WHERE parent_id = ? AND kind <> 'provider' "
                "ORDER BY org_id", (org_id,)) if children else []
            found = self._computed_rows(tx, path, year, today, at)
        units = [path] + [f"{path}{kid[0]}/" for kid in kids]
        return self._answer(org_id, name, kind, year, units, found, kids if children else None)

    def _computed_rows(self, tx: Tx, path: str, year: int, today: date, at: str | None
                       ) -> list[tuple[str, str, Values]]:
        """Every org under `path`, its path and its sums computed in `tx` from the tables (as recorded
        at `at`, when given), never read from the cached rows; in org order."""
        computed = SchoolYears(self.db, self.p, self.policy).compute(tx, year, today, None, path, at)
        paths = {str(r[0]): str(r[1]) for r in tx.query(
            f"SELECT org_id, path FROM {self.p}orgs WHERE path LIKE ? {LIKE_ESCAPE}", (like_prefix(path),))}
        return [(school, paths[school], sums.values()) for school, sums in sorted(computed.items())]

    def _unit_rows(self, tx: Tx, path: str, year: int, today: date, at: str | None
                   ) -> tuple[list[tuple[str, str, Values]], Callable[[], None]]:
        """The rows of every org under `path` for the shortfall lists: now, the cached rows (the stale
        ones computed), with what keeps the computed ones once the snapshot is over; as recorded at
        `at`, computed (nothing to keep)."""
        if at is not None:
            return self._computed_rows(tx, path, year, today, at), lambda: None
        school_years = SchoolYears(self.db, self.p, self.policy)
        state = State.read(tx, self.p)
        found, computed = school_years.read_in(tx, state, path, year, today)
        return found, lambda: school_years.keep(state, year, today, computed)

    def shortfall_page(self, org_id: str, year: int, today: date, rule: str, after: str | None, limit: int,
                       at: datetime | None = None) -> tuple[list[dict[str, Any]], str | None] | None:
        """A page of the named teachers behind the unit's shortfall of `rule` (the list its answer
        gives in `teacher_nos`), after teacher number `after`; None for an org not in the tables.
        `at`: as the list stood then (names as they are now: the service names them as they were)."""
        with self.db.snapshot() as tx:
            orgs = tx.query(f"SELECT path FROM {self.p}orgs WHERE org_id = ?", (org_id,))
            if not orgs:
                return None
            path = str(orgs[0][0])
            found, keep = self._unit_rows(tx, path, year, today, None if at is None else instant(at))
        keep()
        shown, more = shortfall_slice(found, rule, after, limit)
        names = self._teacher_names({no for no, _ in shown})
        items = [{"teacher_no": no, "name": names.get(no), "school_id": school} for no, school in shown]
        return items, encode_cursor([shown[-1][0]]) if more and shown else None

    def shortfall_sheets(self, org_id: str, year: int, today: date, at: datetime | None = None
                         ) -> dict[str, list[dict[str, Any]]] | None:
        """Every teacher behind each of the unit's shortfalls (all of them, not a page), in teacher-number
        order, each with name, school and what the rule found them lacking (`shortfall_members.Gap`),
        read in one snapshot with the lists; None for an org not in the tables. `at` as in
        `shortfall_page` (names as they are now)."""
        when = None if at is None else instant(at)
        with self.db.snapshot() as tx:
            orgs = tx.query(f"SELECT path FROM {self.p}orgs WHERE org_id = ?", (org_id,))
            if not orgs:
                return None
            path = str(orgs[0][0])
            found, keep = self._unit_rows(tx, path, year, today, when)
            figures = member_figures(SchoolYears(self.db, self.p, self.policy), tx, year, today, path, when)
        keep()
        unit = self._tallies([path], found)[0]
        lists = unit.lists()
        names = self._teacher_names({no for nos in lists.values() for no in nos})
        return {rule: [{"teacher_no": no, "name": names.get(no), "school_id": unit.school_of.get(rule, {}).get(no, ""),
                        "gap": figures.gap(rule, no)} for no in nos]
                for rule, nos in lists.items()}

    def compliance_changes(self, org_id: str, year: int, today: date, since: datetime,
                           decode: Callable[[list[int]], dict[int, Any]]) -> list[Change] | None:
        """The events recorded after `since` that moved the unit's figures for `year` (projections/changes.py)."""
        orgs = self.db.query(f"SELECT path FROM {self.p}orgs WHERE org_id = ?", (org_id,))
        if not orgs:
            return None
        path = str(orgs[0][0])

        def figures(found: list[tuple[str, str, Values]]) -> Any:
            return self._tallies([path], found, lists=False)[0].summary(self.policy, lists=False)["figures"]

        return changes_since(self.db, self.p, self.policy, path, year, today, instant(since), figures, decode)

    def answer_in(self, tx: Tx, org_id: str, year: int, today: date) -> dict[str, Any] | None:
        """The answer of a unit above the schools computed in the snapshot `tx` from the tables
        themselves: every school's sums computed, no stored row or answer read (what the read-model
        check compares the stored answers with); None for an org not in the tables."""
        orgs = tx.query(f"SELECT name, kind, path FROM {self.p}orgs WHERE org_id = ?", (org_id,))
        if not orgs:
            return None
        name, kind, path = (str(value) for value in orgs[0])
        kids = tx.query(f"SELECT org_id, name, kind FROM {self.p}orgs WHERE parent_id = ? AND kind <> 'provider' "
                        "ORDER BY org_id", (org_id,))
        found = self._computed_rows(tx, path, year, today, None)
        units = [path] + [f"{path}{kid[0]}/" for kid in kids]
        return self._answer(org_id, name, kind, year, units, found, kids, tx)

    def _answer(self, org_id: str, name: str, kind: str, year: int, units: list[str],
                found: list[tuple[str, str, Values]], kids: list[Any] | None, tx: Tx | None = None
                ) -> dict[str, Any]:
        """The answer of unit `org_id` (the first of `units`) and, unless `kids` is None, of each child
        (teachers named from `tx` when given, else from the tables as they are)."""
        tallies = self._tallies(units, found)
        self._names(tallies, tx)
        result = {"org_id": org_id, "name": name, "kind": kind, "year": year,
                  "policy_version": self.policy.version, **tallies[0].summary(self.policy)}
        if kids is not None:
            result["children"] = []
            for (kid_id, kid_name, kid_kind), kid_tally in zip(kids, tallies[1:], strict=True):
                kid = kid_tally.summary(self.policy, lists=False)
                result["children"].append({"org_id": kid_id, "name": kid_name, "kind": kid_kind,
                                           "teachers": kid["teachers"], "figures": kid["figures"]})
        return result

    def refresh_answers(self, today: date, years: Iterable[int]) -> int:
        """Recompute the stored answers of `years` that are stale (after the schools' rows are
        refreshed: they are read from those); returns how many were computed."""
        stale = stale_answers(self.db, self.p, years, today, answer_version(self.policy.version))
        for year, org_id in stale:
            self.compliance(org_id, year, today)
        return len(stale)

    def prepare_answers(self, today: date, years: Iterable[int]) -> int:
        """Compute and keep the answers of every unit above the schools for `years` (a rebuild's
        last step: a county's first read after it is not the one that rolls up every school);
        returns how many were computed."""
        units = [str(r[0]) for r in self.db.query(
            f"SELECT org_id FROM {self.p}orgs WHERE kind IN ({', '.join('?' * len(KEPT_KINDS))}) ORDER BY org_id",
            KEPT_KINDS)]
        wanted = sorted(set(years))
        for year in wanted:
            for org_id in units:
                self.compliance(org_id, year, today)
        return len(units) * len(wanted)

    def _tallies(self, paths: list[str], found: list[tuple[str, str, Values]], lists: bool = True) -> list[Tally]:
        """Sums for each unit of `paths` (the first contains the others), rolled up from each
        school's row of rm_school_years (`found`: the orgs under the first and their rows): every
        figure is a sum or a count, so the roll-up is exact. With `lists`, also the teachers behind
        the first unit's shortfalls, each with the school whose row lists them."""
        kid_index = {unit: i for i, unit in enumerate(paths) if i}
        prefix = len(paths[0])
        rows: list[list[Values]] = [[] for _ in paths]
        for _, path, values in found:
            if not values[0]:
                continue  # no members
            rows[0].append(values)
            rest = path[prefix:]
            kid = kid_index.get(f"{paths[0]}{rest.split('/', 1)[0]}/") if rest and kid_index else None
            if kid is not None:
                rows[kid].append(values)
        tallies = [Tally.of(unit_rows) for unit_rows in rows]
        # The teachers themselves are listed for the unit asked about only (children give figures).
        unit = tallies[0]
        if not lists:
            return tallies
        listed = [(school, values) for school, _, values in found if values[0]]

        def joined(column: int) -> tuple[list[str], list[str]]:
            """The teachers a column of the schools' rows lists, and the school of each."""
            parts = [(school, values[column]) for school, values in listed if values[column]]
            if not parts:
                return [], []
            nos = SEPARATOR.join(text for _, text in parts).split(SEPARATOR)
            schools = [school for school, text in parts for _ in range(text.count(SEPARATOR) + 1)]
            return nos, schools

        for rule, column in zip(RULES_SHORT, range(LISTS.start, LISTS.stop), strict=True):
            unit.short[rule], unit.short_schools[rule] = joined(column)
        unit.overdue_assessment_teachers, unit.short_schools["overdue_assessments"] = joined(
            OVERDUE_ASSESSMENT_TEACHERS)
        unit.overdue_evaluation_teachers, unit.short_schools["overdue_evaluations"] = joined(
            OVERDUE_EVALUATION_TEACHERS)
        unit.order()
        return tallies

    def _names(self, tallies: list[Tally], tx: Tx | None = None) -> None:
        """Name the teachers on the first page of each of the unit's shortfalls (`Tally.names`)."""
        unit = tallies[0]
        unit.names = self._teacher_names({no for nos in unit.lists().values() for no in nos[:SHORTFALL_PAGE]}, tx)

    def _teacher_names(self, wanted: set[str], tx: Tx | None = None) -> dict[str, str]:
        names: dict[str, str] = {}
        missing = sorted(wanted)
        reader = self.db if tx is None else tx
        for start in range(0, len(missing), 500):
            chunk = missing[start:start + 500]
            for no, name in reader.query(f"SELECT teacher_no, name FROM {self.p}teachers WHERE teacher_no IN "
                                          f"({', '.join('?' * len(chunk))})", chunk):
                names[str(no)] = str(name)
        return names


@dataclass(frozen=True)
class TeacherRow:
    teacher_no: str
    school_id: str


@dataclass
class Tally:
    """One unit's sums for a year, from which the nine figures follow."""

    teachers: int = 0
    hours_x10: int = 0
    self_x10: int = 0
    counted: int = 0
    attended: int = 0
    short_counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    short: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    overdue_assessments: int = 0  # overdue enrolments (a teacher may have several)
    overdue_evaluations: int = 0
    overdue_assessment_teachers: list[str] = field(default_factory=list)
    overdue_evaluation_teachers: list[str] = field(default_factory=list)
    # the school whose row listed each teacher of `short` (by rule, overdue_* included), and the
    # teachers' names: with them, each shortfall also lists `teachers` (number, name, school)
    short_schools: dict[str, list[str]] = field(default_factory=dict)
    school_of: dict[str, dict[str, str]] = field(default_factory=dict)  # by rule: teacher → school (`order`)
    names: dict[str, str] | None = None

    @classmethod
    def of(cls, rows: list[Values]) -> Tally:
        """The sums of schools' rows (values in rm_school_years' VALUES order)."""
        if not rows:
            return cls()
        columns = list(zip(*rows, strict=True))
        total = {i: sum(columns[i]) for i in NUMBERS}
        return cls(total[0], total[1], total[2], total[3], total[4],
                   short_counts=defaultdict(int, {rule: total[i] for rule, i in zip(
                       RULES_SHORT, range(COUNTS.start, COUNTS.stop), strict=True)}),
                   overdue_assessments=total[OVERDUE_ASSESSMENTS], overdue_evaluations=total[OVERDUE_EVALUATIONS])

    def summary(self, policy: Policy, lists: bool = True) -> dict[str, Any]:
        """The figures, and with `lists` the teachers behind each shortfall."""
        t = policy.thresholds
        n = self.teachers
        count = Decimal(n)
        below = self.lists() if lists else {}
        def share(rule: str) -> tuple[Decimal, Decimal]:
            return Decimal(n - self.short_counts[rule]), count

        parts: dict[str, tuple[Decimal, Decimal, Decimal]] = {
            "avg_hours_per_teacher": (Decimal(self.hours_x10) / 10, count, t.avg_hours_per_teacher),
            "avg_self_selected_hours": (Decimal(self.self_x10) / 10, count, t.avg_self_selected_hours),
            "share_concentrated_90h": (*share("share_concentrated_90h"), t.share_concentrated_90h),
            "share_school_based_designated": (*share("share_school_based_designated"),
                                              t.share_school_based_designated),
            "share_school_based_elective": (*share("share_school_based_elective"), t.share_school_based_elective),
            "participation_rate": (Decimal(self.attended), Decimal(self.counted), t.participation_rate),
            "share_cycle_on_track": (*share("share_cycle_on_track"), t.share_cycle_on_track),
        }
        figures = []
        for rule, (numerator, denominator, threshold) in parts.items():
            value = ratio(numerator, denominator)
            figures.append({
                "rule": rule, "value": value, "threshold": float(threshold),
                "met": denominator > 0 and numerator >= threshold * denominator,
                "numerator": float(numerator) if numerator != numerator.to_integral_value() else int(numerator),
                "denominator": int(denominator),
            })
        for rule, items in (("overdue_assessments", self.overdue_assessments),
                            ("overdue_evaluations", self.overdue_evaluations)):
            figures.append({"rule": rule, "value": items, "threshold": 0, "met": items == 0,
                            "numerator": items, "denominator": None})
        return {
            "teachers": n,
            "figures": figures,
            "shortfalls": [self._shortfall(rule, nos) for rule, nos in below.items() if nos],
        }

    def lists(self) -> dict[str, list[str]]:
        """The teachers behind each shortfall, by rule (the overdue ones included)."""
        below = {rule: self.short.get(rule, []) for rule in RULES_SHORT}
        below["overdue_assessments"] = self.overdue_assessment_teachers
        below["overdue_evaluations"] = self.overdue_evaluation_teachers
        return below

    def order(self) -> None:
        """Each list in teacher-number order, and the school of each teacher kept by number (a
        teacher is listed once per rule: their school's row). Each school's list is in order
        already: sorting their concatenation merges runs."""
        for rule, nos in self.lists().items():
            schools = self.short_schools.get(rule)
            if schools is not None and len(schools) == len(nos):
                self.school_of[rule] = dict(zip(nos, schools, strict=True))
            nos.sort()

    def page(self, rule: str, after: str | None, limit: int, names: dict[str, str]
             ) -> tuple[list[dict[str, Any]], str | None]:
        """The named teachers of `rule`'s shortfall after teacher number `after`, at most `limit`,
        and the cursor of the rest (None at the end)."""
        nos = self.lists()[rule]
        school_of = self.school_of.get(rule, {})
        first = 0 if after is None else bisect_right(nos, after)
        shown = nos[first:first + limit]
        items = [{"teacher_no": no, "name": names.get(no), "school_id": school_of.get(no, "")} for no in shown]
        more = first + len(shown) < len(nos)
        return items, encode_cursor([shown[-1]]) if more and shown else None

    def _shortfall(self, rule: str, nos: list[str]) -> dict[str, Any]:
        item: dict[str, Any] = {"rule": rule, "count": len(nos), "teacher_nos": nos}
        if self.names is not None:
            item["teachers"], item["teachers_next"] = self.page(rule, None, SHORTFALL_PAGE, self.names)
        return item
