"""The trainee's evaluation (满意度) of a programme: once, after the end, by a non-excused trainee."""

from __future__ import annotations

from domain.errors import Conflict, Invalid
from domain.teacher_records import Enrolment

MAX_COMMENT = 2000


def ensure_evaluable(enrolment: Enrolment, teacher_no: str) -> None:
    if enrolment.absent:
        raise Conflict("absence_approved", f"teacher {teacher_no} was excused from {enrolment.code}")
    if enrolment.evaluation is not None:
        raise Conflict("already_evaluated", f"teacher {teacher_no} already evaluated {enrolment.code}")


def ensure_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid("comment_too_long", f"a comment is at most {MAX_COMMENT} characters")
    return comment or None
