"""Attendance per session: only for held sessions of enrolled, non-excused trainees."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.errors import Conflict, NotFound
from domain.teacher_records import Enrolment


def ensure_session_held(session: dict[str, Any], today: date) -> None:
    if session["on"] > today:
        raise Conflict("session_not_held", f"session {session['no']} is on {session['on']}, not held yet")


def ensure_session_not_held(session: dict[str, Any], today: date) -> None:
    """A session is held on its day: from then on it can be marked, and no longer moved."""
    if session["on"] <= today:
        raise Conflict("session_held", f"session {session['no']} was held on {session['on']}")


def ensure_session_of_enrolment(enrolment: Enrolment, session_no: int) -> None:
    if session_no not in enrolment.programme["session_nos"]:
        raise NotFound("session_not_found", f"{enrolment.code} has no session {session_no}")


def ensure_not_excused(enrolment: Enrolment, teacher_no: str, present: bool) -> None:
    """A trainee on approved leave or substituted out cannot also be marked present."""
    if present and enrolment.absent:
        kind = enrolment.absence.kind if enrolment.absence else "absence"
        raise Conflict("absence_approved", f"teacher {teacher_no} has an approved {kind} for {enrolment.code}")
