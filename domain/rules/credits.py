"""Credit recognition (学时认定, R7 in docs/domain.md): at most the programme hours, once, after a pass."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from domain.errors import Conflict
from domain.policy import Policy
from domain.teacher_records import Credit, Enrolment


def ensure_credit_within_programme_hours(hours: Decimal, enrolment: Enrolment) -> None:
    """Credit cannot exceed the programme's hours."""
    if hours > enrolment.hours:
        raise Conflict(
            "hours_exceed_programme",
            f"{hours} 学时 exceeds the {enrolment.hours} 学时 of {enrolment.code}",
        )


def ensure_credit_once_per_programme(awarded: Iterable[Credit], code: str) -> None:
    """One valid credit per teacher and programme; a revoked one may be replaced."""
    for credit in awarded:
        if credit.programme_code == code and not credit.revoked:
            raise Conflict(
                "credit_already_awarded",
                f"credit {credit.credit_id} already recognises {code}",
            )


def ensure_passing_assessment(enrolment: Enrolment, policy: Policy) -> str:
    """Hours are recognised only after a passing assessment; returns the assessment's event id."""
    assessment = enrolment.assessment
    if assessment is None:
        raise Conflict("assessment_required", f"{enrolment.code} has no assessment yet")
    if not policy.passes(assessment["result"]):
        raise Conflict("assessment_failed", f"the assessment in {enrolment.code} was {assessment['result']}")
    return str(assessment["event_id"])
