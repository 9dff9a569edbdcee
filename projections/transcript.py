"""The teacher transcript (培训档案) as a pure function of the teacher's replayed state."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from domain.policy import Policy
from domain.teacher import Teacher
from domain.vocabulary import Form, Selection


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def transcript_of(
    teacher: Teacher, policy: Policy, today: date, *, viewer_is_trainee: bool = False
) -> dict[str, Any]:
    """Lines, earlier hours (`prior`), totals per year and per cycle (earlier hours included). A
    trainee sees a programme's hours only after evaluating it (R6, docs/domain.md); other viewers
    see everything."""
    pending = sorted(
        e.code for e in teacher.enrolments.values() if e.assessment is not None and e.evaluation is None
    )
    hidden = set(pending) if viewer_is_trainee else set()
    lines = []
    by_year: dict[int, dict[str, Decimal]] = defaultdict(
        lambda: {"hours": Decimal(0), "self_selected": Decimal(0), "school_based": Decimal(0),
                 "concentrated": Decimal(0)}
    )
    for credit in sorted(teacher.credits.values(), key=lambda c: (c.awarded_at, c.credit_id)):
        if credit.programme_code in hidden:
            continue
        lines.append({
            "credit_id": credit.credit_id,
            "programme_code": credit.programme_code,
            "title": credit.title,
            "level": credit.level,
            "form": credit.form,
            "selection": credit.selection,
            "hours": _number(credit.hours),
            "credits": _number(credit.credits),
            "year": credit.year,
            "awarded_on": credit.awarded_on.isoformat(),
            "certified_by": credit.certified_by.get("sub"),
            "certifier_role": credit.certified_by.get("role"),
            "school_id": credit.school_id,
            "event_id": credit.event_id,
            "policy_version": credit.policy_version,
            "status": credit.status,
            "revoked_event_id": credit.revoked_event_id,
        })
        if credit.revoked:
            continue
        year = by_year[credit.year]
        year["hours"] += credit.hours
        if credit.selection == Selection.SELF_SELECTED and credit.form != Form.SCHOOL_BASED:
            year["self_selected"] += credit.hours
        if credit.selection == Selection.SCHOOL_BASED or credit.form == Form.SCHOOL_BASED:
            year["school_based"] += credit.hours
        if credit.form == Form.CONCENTRATED:
            year["concentrated"] += credit.hours
    prior = []
    for record in sorted(teacher.prior().values(), key=lambda r: (r.recorded_at, r.record_id)):
        prior.append({
            "record_id": record.record_id,
            "year": record.year,
            "hours": _number(record.hours),
            "self_selected": _number(record.self_selected),
            "school_based": _number(record.school_based),
            "concentrated": _number(record.concentrated),
            "source": record.source,
            "event_id": record.event_id,
            "status": record.status,
            "revoked_event_id": record.revoked_event_id,
        })
        if record.revoked:
            continue
        year = by_year[record.year]  # earlier hours count like a credit of their year
        year["hours"] += record.hours
        year["self_selected"] += record.self_selected
        year["school_based"] += record.school_based
        year["concentrated"] += record.concentrated
    start, end = policy.cycle_of(policy.year_of(today))
    cycle_hours = sum((v["hours"] for y, v in by_year.items() if start <= y <= end), Decimal(0))
    return {
        "teacher_no": teacher.teacher_no,
        "name": teacher.name,
        "school_id": teacher.school_id,
        "departure": None if teacher.departure is None else {
            "kind": teacher.departure["kind"], "effective_on": teacher.departure["effective_on"].isoformat()},
        "lines": lines,
        "prior": prior,
        "totals": {
            "by_year": {str(y): {k: _number(v) for k, v in t.items()} for y, t in sorted(by_year.items())},
            "cycle": {"start_year": start, "end_year": end, "hours": _number(cycle_hours),
                      "required": _number(policy.cycle.required)},
        },
        "pending_evaluation": pending,
        "open_disputes": sorted(d.dispute_id for d in teacher.disputes.values() if d.open),
        "policy_version": policy.version,
    }
