"""Commands on a teacher's lifecycle and on what happens before a programme runs: registration
details corrected, departure, an enrolment withdrawn, a session cancelled."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.actor import Actor
from domain.errors import Conflict, Forbidden
from domain.programme import Programme
from domain.vocabulary import DepartureKind, Role, Selection
from service.application.base import TrainRecBase
from service.application.unit import CommandResult, Unit
from service.auth.scopes import PROVIDER_WORK, SELF_OR_STAFF, STAFF_WORK


def ensure_credit_within_current_hours(hours: Decimal, programme: Programme) -> None:
    """Credit cannot exceed the programme's hours as they are now (cancelled sessions no longer
    count; a teacher's enrolment keeps the hours the programme had when they enrolled)."""
    if hours > programme.hours:
        raise Conflict("hours_exceed_programme",
                       f"{hours} 学时 exceeds the {programme.hours} 学时 of {programme.code}")


class LifecycleCommands(TrainRecBase):
    def correct_teacher(
        self, actor: Actor, teacher_no: str, name: str | None, hired_on: date | None, reason: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Registration details corrected: by the teacher's school, a supervisor above it, an admin."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, STAFF_WORK)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_staff_of_teacher(actor, teacher)
            teacher.correct(name, hired_on, reason, actor, unit.now)
            unit.add(teacher)
            return 201, {"teacher_no": teacher_no, "name": teacher.name,
                         "hired_on": teacher.hired_on.isoformat() if teacher.hired_on else None}

        request = {"op": "correct_teacher", "teacher_no": teacher_no, "name": name, "hired_on": hired_on,
                   "reason": reason}
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def record_departure(
        self, actor: Actor, teacher_no: str, kind: DepartureKind, effective_on: date, reason: str,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """The teacher leaves the service: by their school, a supervisor above it, an admin."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, STAFF_WORK)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_staff_of_teacher(actor, teacher)
            teacher.depart(kind, effective_on, reason, actor, unit.now, unit.today)
            unit.add(teacher)
            return 201, {"teacher_no": teacher_no, "kind": kind.value, "effective_on": effective_on.isoformat()}

        request = {"op": "departure", "teacher_no": teacher_no, "kind": kind, "on": effective_on, "reason": reason}
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def withdraw_enrolment(
        self, actor: Actor, code: str, teacher_no: str, reason: str, idempotency_key: str | None = None
    ) -> CommandResult:
        """An enrolment withdrawn before the programme starts, by whoever may make it (the teacher
        for their own self-selected one, their school, a supervisor above it, an admin); the seat
        is freed in the same transaction."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, SELF_OR_STAFF)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_teacher_self_or_staff(actor, teacher)
            programme = unit.programme(code)
            self.scopes.ensure_programme_for(actor, programme, teacher)
            if actor.role is Role.TEACHER and programme.selection != Selection.SELF_SELECTED:
                raise Forbidden("forbidden_scope", f"{code} is {programme.selection}: your school withdraws you")
            teacher.withdraw(code, reason, actor, unit.now, unit.today)
            programme.free_seat(teacher_no, reason.strip(), actor, unit.now)
            unit.add(teacher)
            unit.add(programme)
            return 201, {"code": code, "teacher_no": teacher_no, "status": "withdrawn"}

        request = {"op": "withdraw", "code": code, "teacher_no": teacher_no, "reason": reason}
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def cancel_session(
        self, actor: Actor, code: str, session_no: int, reason: str, idempotency_key: str | None = None
    ) -> CommandResult:
        """A session not yet held, cancelled: the provider's work (like a reschedule)."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, PROVIDER_WORK)
            programme = unit.programme(code)
            self.scopes.ensure_programme_provider(actor, programme)
            programme.cancel_session(session_no, reason, actor, unit.now, unit.today)
            unit.add(programme)
            return 201, {"code": code, "session_no": session_no, "hours": float(programme.hours)
                         if programme.hours != programme.hours.to_integral_value() else int(programme.hours)}

        request = {"op": "cancel_session", "code": code, "session": session_no, "reason": reason}
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)
