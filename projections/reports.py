"""Answers read from the read-model tables: transcript, roster, compliance.

Compliance follows DOMAIN.md "Compliance figures, exactly"; every figure carries its
numerator and denominator so it reconciles, and the teachers behind each shortfall.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import Any

from domain.policy import Policy
from projections.db import LIKE_ESCAPE, ReadModelDB, like_prefix

TENTH = Decimal("0.1")
SEPARATOR = "\x1f"  # joins teacher numbers in one aggregated string (control characters are refused in text)
RULES_SHORT = ("avg_hours_per_teacher", "avg_self_selected_hours", "share_concentrated_90h",
               "share_school_based_designated", "share_school_based_elective", "participation_rate",
               "share_cycle_on_track")


def hours(x10: int) -> int | float:
    value = Decimal(x10) / 10
    return int(value) if value == value.to_integral_value() else float(value)


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
        teacher = self.db.query(f"SELECT name, school_id FROM {p}teachers WHERE teacher_no = ?", (teacher_no,))
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
            "lines": lines,
            "totals": {
                "by_year": {str(y): {k: hours(v) for k, v in t.items()} for y, t in sorted(by_year.items())},
                "cycle": {"start_year": start, "end_year": end, "hours": hours(cycle_x10),
                          "required": int(required) if required == required.to_integral_value() else float(required)},
            },
            "pending_evaluation": pending,
            "open_disputes": [d[0] for d in disputes],
            "policy_version": self.policy.version,
        }

    # --- roster --------------------------------------------------------------------------
    def roster(self, code: str, today: date) -> dict[str, Any] | None:
        p = self.p
        programme = self.db.query(
            f"SELECT title, ends_on, session_count, provider_id, owner_org_id FROM {p}programmes WHERE code = ?",
            (code,))
        if not programme:
            return None
        title, ends_on_text, session_count, provider_id, owner_org_id = programme[0]
        ends_on = date.fromisoformat(ends_on_text)
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
                "attendance_rate": ratio(Decimal(r[7]), Decimal(session_count)),
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
            "ends_on": ends_on_text, "sessions": session_count,
            "enrolled": enrolled, "absences": absences,
            "assessed": [e["teacher_no"] for e in enrolled if e["assessment"] is not None],
            "evaluated": [e["teacher_no"] for e in enrolled if e["evaluated"]],
            "counts": {"enrolled": len(rows), "approved_absences": excused, "attended": attended,
                       "assessed": assessed, "evaluated": evaluated},
            "attendance_rate": ratio(Decimal(present_total), Decimal(counted * session_count)),
            "participation_rate": ratio(Decimal(attended), Decimal(counted)),
            "overdue_assessments": overdue_a, "overdue_evaluations": overdue_e,
            "policy_version": self.policy.version,
        }

    # --- compliance ----------------------------------------------------------------------
    def org(self, org_id: str) -> tuple[str, str, str] | None:
        rows = self.db.query(f"SELECT name, kind, path FROM {self.p}orgs WHERE org_id = ?", (org_id,))
        return (str(rows[0][0]), str(rows[0][1]), str(rows[0][2])) if rows else None

    def compliance(self, org_id: str, year: int, today: date, children: bool = True) -> dict[str, Any] | None:
        """The unit's figures and, with `children`, each child unit's, from per-school sums."""
        org = self.org(org_id)
        if org is None:
            return None
        kids = self.db.query(
            f"SELECT org_id, name, kind FROM {self.p}orgs WHERE parent_id = ? AND kind <> 'provider' "
            "ORDER BY org_id", (org_id,)) if children else []
        units = [org[2]] + [f"{org[2]}{kid[0]}/" for kid in kids]
        tallies = self._tallies(units, year, today)
        result = {"org_id": org_id, "name": org[0], "kind": org[1], "year": year,
                  "policy_version": self.policy.version, **tallies[0].summary(self.policy)}
        if children:
            result["children"] = []
            for (kid_id, kid_name, kid_kind), kid_tally in zip(kids, tallies[1:], strict=True):
                kid = kid_tally.summary(self.policy, lists=False)
                result["children"].append({"org_id": kid_id, "name": kid_name, "kind": kid_kind,
                                           "teachers": kid["teachers"], "figures": kid["figures"]})
        return result

    def _members(self) -> str:
        """Teachers whose posting in force on day `?` is at a school under path `?` (docs/decisions.md)."""
        p = self.p
        return (
            f"SELECT ps.teacher_no, ps.school_id FROM {p}postings ps WHERE ps.from_date <= ? "
            "AND (ps.until_date IS NULL OR ps.until_date > ?) "
            f"AND ps.school_id IN (SELECT o.org_id FROM {p}orgs o WHERE o.path LIKE ? {LIKE_ESCAPE})"
        )

    def _tallies(self, paths: list[str], year: int, today: date) -> list[Tally]:
        """Sums for each unit of `paths` (the first contains the others), read per school from
        rm_teacher_years and rolled up: every figure is a sum or a count, so the roll-up is exact."""
        p = self.p
        t = self.policy.thresholds
        first, last = self.policy.year_bounds(year)
        end = (min(last, today) if first <= today <= last else last).isoformat()
        cycle_start, _ = self.policy.cycle_of(year)
        elapsed = year - cycle_start + 1
        cycle_needed_x10 = self.policy.cycle.required * elapsed / self.policy.cycle.length_years * 10
        members = self._members()
        member_args = (end, end, like_prefix(paths[0]))
        agg = ("string_agg({}, chr(31))" if self.db.backend == "postgres" else "group_concat({}, char(31))").format
        # Each rule's test of one member falling short, and its limit in tenths of an hour.
        short_of = {
            "avg_hours_per_teacher": ("h < ?", x10_ceiling(t.avg_hours_per_teacher)),
            "avg_self_selected_hours": ("s < ?", x10_ceiling(t.avg_self_selected_hours)),
            "share_concentrated_90h": ("cm < ?", x10_ceiling(t.concentrated_min_hours)),
            "share_school_based_designated": ("d < ?", x10_ceiling(t.school_based_designated_hours)),
            "share_school_based_elective": ("el < ?", x10_ceiling(t.school_based_elective_hours)),
            "participation_rate": ("att < cnt", None),
            "share_cycle_on_track": ("cy < ?", int(cycle_needed_x10.to_integral_value(rounding=ROUND_CEILING))),
        }
        tests = [short_of[rule] for rule in RULES_SHORT]
        limits = [limit for _, limit in tests if limit is not None]
        counts = ", ".join(f"SUM(CASE WHEN {test} THEN 1 ELSE 0 END)" for test, _ in tests)
        postgres = self.db.backend == "postgres"
        # One row per school with its sums, then one row with every list in order of teacher number
        # (sorted by the database in one pass over the members: a county's lists hold hundreds of
        # thousands of numbers, which Python would otherwise have to sort one list at a time).
        lists = ", ".join(agg(f"CASE WHEN {test} THEN teacher_no END") for test, _ in tests)
        nothing = ", ".join(["NULL"] * len(tests))
        zeros = ", ".join(["0"] * (len(tests) + 5))
        collate = ' COLLATE "C"' if postgres else ""  # byte order: Python's order of the same text
        rows = self.db.query(
            f"WITH m AS ({members}), "
            # one row per member: the year's row, whose cycle_x10 holds the cycle's hours so far; a
            # member without a row that year has those of their latest earlier row of the cycle (looked
            # up for them alone)
            f"f AS {'MATERIALIZED ' if postgres else ''}(SELECT m.school_id, m.teacher_no, "
            "COALESCE(ty.hours_x10, 0) AS h, "
            "COALESCE(ty.self_selected_x10, 0) AS s, COALESCE(ty.designated_x10, 0) AS d, "
            "COALESCE(ty.elective_x10, 0) AS el, COALESCE(ty.concentrated_max_x10, -1) AS cm, "
            "COALESCE(ty.enrolments_counted, 0) AS cnt, COALESCE(ty.enrolments_attended, 0) AS att, "
            f"COALESCE(ty.cycle_x10, (SELECT c.cycle_x10 FROM {p}teacher_years c WHERE c.teacher_no = m.teacher_no "
            "AND c.year BETWEEN ? AND ? ORDER BY c.year DESC LIMIT 1), 0) AS cy "
            f"FROM m LEFT JOIN {p}teacher_years ty ON ty.teacher_no = m.teacher_no AND ty.year = ?) "
            f"SELECT school_id, COUNT(*), SUM(h), SUM(s), SUM(cnt), SUM(att), {counts}, {nothing} "
            f"FROM f GROUP BY school_id UNION ALL SELECT NULL, {zeros}, {lists} FROM "
            f"(SELECT * FROM f ORDER BY teacher_no{collate}) ordered",
            (*member_args, cycle_start, year - 1, year, *limits, *limits),
        )
        tallies = [Tally() for _ in paths]
        paths_of = self._school_paths(paths[0])
        units_of: dict[str, list[Tally]] = {}
        rules = len(RULES_SHORT)
        kid_index = {unit: i for i, unit in enumerate(paths) if i}

        def units(school_id: str) -> list[Tally]:
            """The tallies a school's rows count in: the unit's, and its child unit's if any."""
            if school_id not in units_of:
                school_path = paths_of.get(school_id, "")
                found = [tallies[0]] if school_path.startswith(paths[0]) else []
                rest = school_path[len(paths[0]):]
                kid = kid_index.get(f"{paths[0]}{rest.split('/', 1)[0]}/") if found and rest else None
                units_of[school_id] = found + ([tallies[kid]] if kid is not None else [])
            return units_of[school_id]

        for school_id, n, hours_x10, self_x10, counted, attended, *short in rows:
            if school_id is None:
                # The teachers themselves are listed for the unit asked about only (children give
                # figures); Tally.summary sorts them, which costs one pass when already in order.
                for rule, names in zip(RULES_SHORT, short[rules:], strict=True):
                    if names:
                        tallies[0].short[rule] = names.split(SEPARATOR)
                continue
            for tally in units(str(school_id)):
                tally.teachers += int(n)
                tally.hours_x10 += int(hours_x10)
                tally.self_x10 += int(self_x10)
                tally.counted += int(counted)
                tally.attended += int(attended)
                for rule, number in zip(RULES_SHORT, short[:rules], strict=True):
                    tally.short_counts[rule] += int(number)
        overdue = self.db.query(
            f"SELECT e.teacher_no, e.programme_code, m.school_id, 'assessment' FROM {p}enrolments e "
            f"JOIN ({members}) m ON m.teacher_no = e.teacher_no WHERE e.assessment_result IS NULL "
            "AND e.ends_on BETWEEN ? AND ? AND e.ends_on < ? "
            "AND (e.absence_status IS NULL OR e.absence_status <> 'approved') "
            f"UNION ALL SELECT e.teacher_no, e.programme_code, m.school_id, 'evaluation' FROM {p}enrolments e "
            f"JOIN ({members}) m ON m.teacher_no = e.teacher_no WHERE e.evaluated_at IS NULL "
            "AND e.assessment_result IS NOT NULL AND e.ends_on BETWEEN ? AND ? AND e.ends_on < ? "
            "AND (e.absence_status IS NULL OR e.absence_status <> 'approved')",
            (*member_args, first.isoformat(), last.isoformat(),
             (today - timedelta(days=self.policy.deadlines.assessment_days)).isoformat(),
             *member_args, first.isoformat(), last.isoformat(),
             (today - timedelta(days=self.policy.deadlines.evaluation_days)).isoformat()),
        )
        for teacher_no, code, school_id, kind in overdue:
            for tally in units(str(school_id)):
                items = tally.overdue_assessments if kind == "assessment" else tally.overdue_evaluations
                items.append((str(teacher_no), str(code)))
        return tallies

    def _school_paths(self, path: str) -> dict[str, str]:
        rows = self.db.query(f"SELECT org_id, path FROM {self.p}orgs WHERE path LIKE ? {LIKE_ESCAPE}",
                             (like_prefix(path),))
        return {str(org_id): str(org_path) for org_id, org_path in rows}


@dataclass(frozen=True)
class TeacherRow:
    teacher_no: str
    school_id: str


def x10_ceiling(hours: Decimal) -> int:
    """The least whole number of tenths of an hour that is not below `hours`."""
    return int((hours * 10).to_integral_value(rounding=ROUND_CEILING))


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
    overdue_assessments: list[tuple[str, str]] = field(default_factory=list)
    overdue_evaluations: list[tuple[str, str]] = field(default_factory=list)

    def summary(self, policy: Policy, lists: bool = True) -> dict[str, Any]:
        """The figures, and with `lists` the teachers behind each shortfall."""
        t = policy.thresholds
        n = self.teachers
        count = Decimal(n)
        below = {rule: sorted(self.short.get(rule, [])) for rule in RULES_SHORT} if lists else {}
        if lists:
            below["overdue_assessments"] = sorted({x for x, _ in self.overdue_assessments})
            below["overdue_evaluations"] = sorted({x for x, _ in self.overdue_evaluations})

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
            figures.append({"rule": rule, "value": len(items), "threshold": 0, "met": len(items) == 0,
                            "numerator": len(items), "denominator": None})
        return {
            "teachers": n,
            "figures": figures,
            "shortfalls": [{"rule": rule, "teacher_nos": nos} for rule, nos in below.items() if nos],
        }
