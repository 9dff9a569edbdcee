"""Trainee assessment by the provider: after the end, within the deadline (late is flagged, not lost)."""

from __future__ import annotations

from datetime import date

from domain.errors import Conflict, Invalid
from domain.teacher_records import Enrolment


def ensure_score(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise Invalid("invalid_score", f"{name} must be an integer from 1 to 5")


def ensure_programme_ended(enrolment: Enrolment, today: date, what: str) -> None:
    """Assessments and evaluations are of a finished programme (from its last day on)."""
    if today < enrolment.ends_on:
        raise Conflict("programme_not_ended", f"{what} of {enrolment.code} can start on {enrolment.ends_on}")


def ensure_assessable(enrolment: Enrolment, teacher_no: str) -> None:
    if enrolment.absent:
        raise Conflict("absence_approved", f"teacher {teacher_no} was excused from {enrolment.code}")
    if enrolment.assessment is not None:
        raise Conflict("already_assessed", f"teacher {teacher_no} is already assessed in {enrolment.code}")
