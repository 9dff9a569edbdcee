"""Every teacher behind a unit's shortfalls with the figures each rule tested on them: what an
export lists beside the names (`Reports.shortfall_sheets`), where an answer names 50 a list.

The per-member figures come from the statements compliance itself runs (`SchoolYears.per_member`,
or `as_of.per_member` for a past instant) and each rule's limit from `short_tests`, so a teacher's
gap is measured on the very quantity that put them on the list (docs/decisions.md "What a
shortfall sheet says a teacher lacks").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from projections import as_of
from projections.db import LIKE_ESCAPE, Tx, like_prefix
from projections.school_years import SchoolYears, members_sql, overdue_sql, short_tests

# the per-member column each rule with a limit tests (school_years.short_tests)
MEASURED = {"avg_hours_per_teacher": "h", "avg_self_selected_hours": "s", "share_concentrated_90h": "cm",
            "share_school_based_designated": "d", "share_school_based_elective": "el",
            "share_cycle_on_track": "cy"}
COLUMNS = ("h", "s", "d", "el", "cm", "cnt", "att", "cy")


@dataclass(frozen=True)
class Gap:
    """What one listed teacher has of what the rule measures, what it asks, and what is missing:
    hours for the hour rules, enrolments for participation, overdue enrolments for the overdue
    rules (`programmes`: their codes)."""

    have: Decimal
    need: Decimal
    missing: Decimal
    programmes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MemberFigures:
    values: dict[str, dict[str, int]]  # teacher_no → column → value (tenths of an hour, or counts)
    overdue: dict[str, dict[str, list[str]]]  # 'assessment' | 'evaluation' → teacher_no → codes
    limits: dict[str, int | None]  # rule → limit in tenths of an hour

    def gap(self, rule: str, teacher_no: str) -> Gap:
        if rule in ("overdue_assessments", "overdue_evaluations"):
            codes = sorted(self.overdue[rule.removeprefix("overdue_").removesuffix("s")].get(teacher_no, []))
            return Gap(Decimal(len(codes)), Decimal(0), Decimal(len(codes)), tuple(codes))
        values = self.values.get(teacher_no, dict.fromkeys(COLUMNS, 0))
        if rule == "participation_rate":
            return Gap(Decimal(values["att"]), Decimal(values["cnt"]), Decimal(values["cnt"] - values["att"]))
        limit = self.limits[rule]
        assert limit is not None  # every rule but participation has one
        have = values[MEASURED[rule]]
        if rule == "share_concentrated_90h":
            # one credit of at least the limit counts; credits do not add up to it: the teacher lacks a
            # whole concentrated programme of that length, whatever their largest one was
            return Gap(Decimal(max(have, 0)) / 10, Decimal(limit) / 10, Decimal(limit) / 10)
        return Gap(Decimal(have) / 10, Decimal(limit) / 10, Decimal(max(limit - have, 0)) / 10)


def member_figures(sy: SchoolYears, tx: Tx, year: int, today: date, path: str, at: str | None) -> MemberFigures:
    """The figures of every member of the unit at `path` for `year` as of `today` (as recorded at
    `at`, an instant's text, when given), read in `tx`."""
    p = sy.p
    policy = sy.policy
    first, last = policy.year_bounds(year)
    end = (min(last, today) if first <= today <= last else last).isoformat()
    cycle_start, _ = policy.cycle_of(year)
    among, among_args = f"SELECT o.org_id FROM {p}orgs o WHERE o.path LIKE ? {LIKE_ESCAPE}", (like_prefix(path),)
    members, member_args = members_sql(p, end, among, among_args, at)
    assessment_before = today - timedelta(days=policy.deadlines.assessment_days)
    evaluation_before = today - timedelta(days=policy.deadlines.evaluation_days)
    if at is None:
        per_member, per_member_args = sy.per_member(year, today, first, last, cycle_start)
        overdue, overdue_args = overdue_sql(p, members, member_args, first, last, assessment_before,
                                            evaluation_before)
        overdue_rows = [(no, kind, code) for no, _, kind, code in tx.query(overdue, overdue_args)]
    else:
        per_member, per_member_args = as_of.per_member(p, at, year, today, first, last, cycle_start,
                                                       assessment_before, evaluation_before)
        overdue, overdue_args = as_of.overdue_enrolments(p, at, today, first, last, assessment_before,
                                                         evaluation_before)
        overdue_rows = tx.query(f"WITH m AS ({members}) {overdue}", (*member_args, *overdue_args))
    rows = tx.query(f"WITH m AS ({members}) SELECT pm.teacher_no, {', '.join(f'pm.{c}' for c in COLUMNS)} "
                    f"FROM ({per_member}) pm", (*member_args, *per_member_args))
    values = {str(row[0]): {column: int(value) for column, value in zip(COLUMNS, row[1:], strict=True)}
              for row in rows}
    by_kind: dict[str, dict[str, list[str]]] = {"assessment": defaultdict(list), "evaluation": defaultdict(list)}
    for teacher_no, kind, code in overdue_rows:
        by_kind[str(kind)][str(teacher_no)].append(str(code))
    limits = {rule: limit for rule, (_, limit) in short_tests(policy, year).items()}
    return MemberFigures(values, by_kind, limits)
