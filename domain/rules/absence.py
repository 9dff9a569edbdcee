"""Leave (请假) and substitution (换人): filed before the end, approved by school and provider."""

from __future__ import annotations

from datetime import date

from domain.errors import Conflict, Invalid
from domain.teacher_records import Enrolment
from domain.vocabulary import AbsenceKind, Approver

MAX_REASON = 2000


def ensure_reason(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise Invalid("reason_required", f"{what} needs a reason")
    if len(reason) > MAX_REASON:
        raise Invalid("reason_too_long", f"a reason is at most {MAX_REASON} characters")
    return reason


def ensure_absence_can_be_filed(
    enrolment: Enrolment, kind: AbsenceKind, substitute_teacher_no: str | None, today: date
) -> None:
    if enrolment.absence is not None and enrolment.absence.status != "rejected":
        raise Conflict("absence_exists", f"an absence for {enrolment.code} is already {enrolment.absence.status}")
    if enrolment.assessment is not None:
        raise Conflict("already_assessed", f"{enrolment.code} is already assessed")
    if today > enrolment.ends_on:
        raise Conflict("programme_ended", f"{enrolment.code} ended on {enrolment.ends_on}")
    if kind is AbsenceKind.SUBSTITUTION and not substitute_teacher_no:
        raise Invalid("substitute_required", "a substitution names the substitute_teacher_no")
    if kind is AbsenceKind.LEAVE and substitute_teacher_no:
        raise Invalid("substitute_not_allowed", "leave has no substitute; file a substitution")


def ensure_absence_decidable(enrolment: Enrolment, by: Approver) -> None:
    absence = enrolment.absence
    if absence is None or absence.status == "rejected":
        raise Conflict("absence_not_found", f"no pending absence for {enrolment.code}")
    if by.value in absence.decisions:
        raise Conflict("absence_already_decided", f"the {by.value} already decided this absence")

