"""Who may enrol in what: once per programme, and only with past programmes evaluated (gating)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from domain.errors import Conflict
from domain.policy import Policy
from domain.teacher_records import Enrolment


def ensure_not_already_enrolled(enrolments: Mapping[str, Enrolment], code: str, teacher_no: str) -> None:
    if code in enrolments:
        raise Conflict("already_enrolled", f"teacher {teacher_no} is already enrolled in {code}")


def evaluations_pending_before(
    enrolments: Iterable[Enrolment], starts_on: date, policy: Policy
) -> list[str]:
    """Programmes assessed but not yet evaluated that ended in a term before the one `starts_on` is in."""
    term = policy.term_of(starts_on)
    return sorted(
        e.code
        for e in enrolments
        if e.assessment is not None
        and e.evaluation is None
        and policy.term_of(e.ends_on) < term
    )


def ensure_evaluations_done_before_new_term(
    enrolments: Iterable[Enrolment], programme: Mapping[str, Any], policy: Policy
) -> None:
    """R6 (docs/domain.md): evaluate every programme you were assessed in, from earlier terms, before enrolling."""
    pending = evaluations_pending_before(enrolments, programme["starts_on"], policy)
    if pending:
        raise Conflict(
            "evaluation_pending",
            f"evaluate {', '.join(pending)} before enrolling in a programme of "
            f"{policy.term_name(policy.term_of(programme['starts_on']))}",
        )


def ensure_school_based_for_own_staff(programme: Mapping[str, Any], school_id: str) -> None:
    """A school-based programme is for the staff of the school that owns it."""
    school_based = programme["selection"] == "school_based" or programme["form"] == "school_based"
    if school_based and programme["owner_org_id"] != school_id:
        raise Conflict(
            "outside_programme_school",
            f"school-based programme {programme['code']} is for staff of {programme['owner_org_id']}",
        )
