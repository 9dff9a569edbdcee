"""Answers read from the read-model tables: transcript, roster, compliance.

Compliance follows DOMAIN.md "Compliance figures, exactly"; every figure carries its
numerator and denominator so it reconciles, and the teachers behind each shortfall.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from domain.policy import Policy
from projections.db import LIKE_ESCAPE, ReadModelDB, like_prefix

TENTH = Decimal("0.1")
SMALL_UNIT = 500  # teachers; above this, one scan of the year's rows beats a long IN list


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
        """The unit's figures and, with `children`, each child unit's, from one read of the rows."""
        org = self.org(org_id)
        if org is None:
            return None
        kids = self.db.query(
            f"SELECT org_id, name, kind FROM {self.p}orgs WHERE parent_id = ? AND kind <> 'provider' "
            "ORDER BY org_id", (org_id,)) if children else []
        units = [org[2]] + [f"{org[2]}{kid[0]}/" for kid in kids]
        facts = self._facts(units, year, today)
        result = {"org_id": org_id, "name": org[0], "kind": org[1], "year": year,
                  "policy_version": self.policy.version, **facts[0].summary(self.policy)}
        if children:
            result["children"] = []
            for (kid_id, kid_name, kid_kind), kid_facts in zip(kids, facts[1:], strict=True):
                kid = kid_facts.summary(self.policy)
                result["children"].append({"org_id": kid_id, "name": kid_name, "kind": kid_kind,
                                           "teachers": kid["teachers"], "figures": kid["figures"]})
        return result

    def _facts(self, paths: list[str], year: int, today: date) -> list[Facts]:
        """Facts for each unit of `paths` (the first contains the others)."""
        p = self.p
        first, last = self.policy.year_bounds(year)
        end = min(last, today) if first <= today <= last else last
        cycle_start, _ = self.policy.cycle_of(year)
        # Teachers ever posted in the unit, then each one's posting at the year's end (they may have left).
        postings = self.db.query(
            f"SELECT ps.teacher_no, ps.seq, o.path FROM {p}postings ps JOIN {p}orgs o ON o.org_id = ps.school_id "
            "WHERE ps.from_date <= ? AND ps.teacher_no IN "
            f"(SELECT p2.teacher_no FROM {p}postings p2 JOIN {p}orgs o2 ON o2.org_id = p2.school_id "
            f"WHERE o2.path LIKE ? {LIKE_ESCAPE})",
            (end.isoformat(), like_prefix(paths[0])),
        )
        latest: dict[str, tuple[int, str]] = {}
        for teacher_no, seq, school_path in postings:
            if teacher_no not in latest or seq > latest[teacher_no][0]:
                latest[str(teacher_no)] = (int(seq), str(school_path))
        path_of = {t: school_path for t, (_, school_path) in latest.items() if school_path.startswith(paths[0])}
        units = [
            Facts(year=year, cycle_start=cycle_start,
                  teachers=sorted(t for t, school_path in path_of.items() if school_path.startswith(unit)))
            for unit in paths
        ]
        if not path_of:
            return units
        # A small unit asks for its teachers' rows; a large one reads the year's rows and keeps its own.
        if len(path_of) <= SMALL_UNIT:
            among = f" AND teacher_no IN ({', '.join('?' * len(path_of))})"
            names: tuple[str, ...] = tuple(path_of)
        else:
            among, names = "", ()
        credit_rows = self.db.query(
            f"SELECT teacher_no, year, form, selection, school_based_content, hours_x10 FROM {p}credits "
            f"WHERE status = 'valid' AND year BETWEEN ? AND ?{among}",
            (cycle_start, year, *names),
        )
        enrolments = self.db.query(
            f"SELECT teacher_no, programme_code, ends_on, absence_status, sessions_present, assessment_result, "
            f"evaluated_at FROM {p}enrolments WHERE ends_on BETWEEN ? AND ?{among}",
            (first.isoformat(), last.isoformat(), *names),
        )
        units_of = {t: [units[i] for i, unit in enumerate(paths) if school_path.startswith(unit)]
                    for t, school_path in path_of.items()}
        for teacher_no, credit_year, form, selection, content, x10 in credit_rows:
            for facts in units_of.get(teacher_no, ()):
                facts.add_credit(teacher_no, int(credit_year), form, selection, content, int(x10), self.policy)
        for teacher_no, code, ends_on, absence, present, result, evaluated_at in enrolments:
            ends = date.fromisoformat(ends_on)
            for facts in units_of.get(teacher_no, ()):
                facts.add_enrolment(teacher_no, code, ends, absence == "approved", present > 0, result is not None,
                                    evaluated_at is not None, today, self.policy)
        return units


@dataclass
class Facts:
    """Per-teacher sums for one unit and year, from which the nine figures follow."""

    year: int
    cycle_start: int
    teachers: list[str]
    year_hours: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    self_selected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    designated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    elective: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    concentrated_90: set[str] = field(default_factory=set)
    cycle_hours: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    counted_enrolments: int = 0
    attended_enrolments: int = 0
    not_attended: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    overdue_assessments: list[tuple[str, str]] = field(default_factory=list)
    overdue_evaluations: list[tuple[str, str]] = field(default_factory=list)

    def add_credit(
        self, teacher_no: str, year: int, form: str, selection: str, content: str | None, x10: int, policy: Policy
    ) -> None:
        self.cycle_hours[teacher_no] += x10
        if year != self.year:
            return
        self.year_hours[teacher_no] += x10
        if selection == "self_selected" and form != "school_based":  # 校本 hours never count as self-selected
            self.self_selected[teacher_no] += x10
        if selection == "school_based" or form == "school_based":
            if content == "designated":
                self.designated[teacher_no] += x10
            elif content == "elective":
                self.elective[teacher_no] += x10
        if form == "concentrated" and x10 >= policy.thresholds.concentrated_min_hours * 10:
            self.concentrated_90.add(teacher_no)

    def add_enrolment(
        self, teacher_no: str, code: str, ends_on: date, excused: bool, attended: bool, assessed: bool,
        evaluated: bool, today: date, policy: Policy,
    ) -> None:
        if excused:
            return
        self.counted_enrolments += 1
        if attended:
            self.attended_enrolments += 1
        else:
            self.not_attended[teacher_no].append(code)
        if not assessed and today > ends_on + timedelta(days=policy.deadlines.assessment_days):
            self.overdue_assessments.append((teacher_no, code))
        if assessed and not evaluated and today > ends_on + timedelta(days=policy.deadlines.evaluation_days):
            self.overdue_evaluations.append((teacher_no, code))

    def summary(self, policy: Policy) -> dict[str, Any]:
        t = policy.thresholds
        n = len(self.teachers)
        count = Decimal(n)
        elapsed = self.year - self.cycle_start + 1
        cycle_needed_x10 = policy.cycle.required * elapsed / policy.cycle.length_years * 10
        below = {
            "avg_hours_per_teacher": [x for x in self.teachers if self.year_hours[x] < t.avg_hours_per_teacher * 10],
            "avg_self_selected_hours": [
                x for x in self.teachers if self.self_selected[x] < t.avg_self_selected_hours * 10],
            "share_concentrated_90h": [x for x in self.teachers if x not in self.concentrated_90],
            "share_school_based_designated": [
                x for x in self.teachers if self.designated[x] < t.school_based_designated_hours * 10],
            "share_school_based_elective": [
                x for x in self.teachers if self.elective[x] < t.school_based_elective_hours * 10],
            "participation_rate": sorted(self.not_attended),
            "share_cycle_on_track": [x for x in self.teachers if self.cycle_hours[x] < cycle_needed_x10],
            "overdue_assessments": sorted({x for x, _ in self.overdue_assessments}),
            "overdue_evaluations": sorted({x for x, _ in self.overdue_evaluations}),
        }
        total_x10 = sum(self.year_hours[x] for x in self.teachers)
        self_x10 = sum(self.self_selected[x] for x in self.teachers)

        def share(rule: str) -> tuple[Decimal, Decimal]:
            return Decimal(n - len(below[rule])), count

        parts: dict[str, tuple[Decimal, Decimal, Decimal]] = {
            "avg_hours_per_teacher": (Decimal(total_x10) / 10, count, t.avg_hours_per_teacher),
            "avg_self_selected_hours": (Decimal(self_x10) / 10, count, t.avg_self_selected_hours),
            "share_concentrated_90h": (*share("share_concentrated_90h"), t.share_concentrated_90h),
            "share_school_based_designated": (*share("share_school_based_designated"),
                                              t.share_school_based_designated),
            "share_school_based_elective": (*share("share_school_based_elective"), t.share_school_based_elective),
            "participation_rate": (Decimal(self.attended_enrolments), Decimal(self.counted_enrolments),
                                   t.participation_rate),
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
