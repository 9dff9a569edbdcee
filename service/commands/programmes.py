"""Commands on programmes: define, approve, enrol, absences, attendance sheets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from domain.actor import Actor
from domain.errors import Conflict, Forbidden, Invalid
from domain.ids import programme_uuid
from domain.programme import Programme, checked_definition
from domain.rules.attendance import ensure_session_held
from domain.rules.programme_definition import SessionPlan, ensure_provider_kind, ensure_school_based_level
from domain.vocabulary import (
    AbsenceKind,
    Approver,
    Decision,
    Form,
    Level,
    OrgKind,
    Role,
    SchoolBasedContent,
    Selection,
)
from service.application.base import TrainRecBase
from service.application.unit import CommandResult, Unit
from service.application.values import dated
from service.auth.scopes import APPROVAL, PROVIDER_WORK, SELF_OR_STAFF, STAFF_WORK

MAX_SHEET = 5000


def _check_references(unit: Unit, level: Level, selection: Selection, provider_id: str, owner_org_id: str) -> None:
    """The provider and owner a definition names are references (the caller's scope over them is
    checked apart): they exist, the provider is one, and a school-based level suits the owner."""
    provider = unit.org(provider_id, scoped=False)
    owner = unit.org(owner_org_id, scoped=False)
    ensure_provider_kind(OrgKind(provider.kind))
    ensure_school_based_level(selection, level, OrgKind(owner.kind))


def _definition_request(
    op: str, code: str, title: str, level: Level, form: Form, selection: Selection, hours: Decimal,
    provider_id: str, owner_org_id: str, starts_on: date, ends_on: date, sessions: Sequence[SessionPlan],
    school_based_content: SchoolBasedContent | None, capacity: int | None,
) -> dict[str, Any]:
    """What identifies a definition request for idempotency (the same keys as ever: stored digests)."""
    return {"op": op, "code": code, "title": title, "level": level, "form": form, "selection": selection,
            "hours": hours, "provider_id": provider_id, "owner_org_id": owner_org_id, "starts_on": starts_on,
            "ends_on": ends_on, "sessions": [(s.no, s.on, s.hours) for s in sessions],
            "school_based_content": school_based_content, "capacity": capacity}


class ProgrammeCommands(TrainRecBase):
    def define_programme(
        self,
        actor: Actor,
        *,
        code: str,
        title: str,
        level: Level,
        form: Form,
        selection: Selection,
        hours: Decimal,
        provider_id: str,
        owner_org_id: str,
        starts_on: date,
        ends_on: date,
        sessions: Sequence[SessionPlan],
        school_based_content: SchoolBasedContent | None = None,
        capacity: int | None = None,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.ensure_programme_define(actor, owner_org_id, provider_id)
            _check_references(unit, level, selection, provider_id, owner_org_id)
            if unit.taken(programme_uuid(code)):
                raise Conflict("programme_exists", f"programme {code} already exists")
            programme = Programme.define(
                code=code, title=title, level=level, form=form, selection=selection,
                school_based_content=school_based_content, hours=hours, provider_id=provider_id,
                owner_org_id=owner_org_id, starts_on=starts_on, ends_on=ends_on, sessions=sessions,
                capacity=capacity, actor=actor, now=unit.now,
            )
            unit.add(programme)
            return 201, {"code": code, "needs_approval": programme.needs_approval}

        request = _definition_request("define_programme", code, title, level, form, selection, hours, provider_id,
                                      owner_org_id, starts_on, ends_on, sessions, school_based_content, capacity)
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def resubmit_programme(
        self,
        actor: Actor,
        *,
        code: str,
        title: str,
        level: Level,
        form: Form,
        selection: Selection,
        hours: Decimal,
        provider_id: str,
        owner_org_id: str,
        starts_on: date,
        ends_on: date,
        sessions: Sequence[SessionPlan],
        school_based_content: SchoolBasedContent | None = None,
        capacity: int | None = None,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """A rejected programme revised under the same code, awaiting approval again: by whoever may
        define it as it was and as it is revised (its provider, a supervisor of its owner, an admin)."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            programme = unit.programme(code)
            self.scopes.ensure_programme_define(actor, programme.owner_org_id, programme.provider_id)
            self.scopes.ensure_programme_define(actor, owner_org_id, provider_id)
            _check_references(unit, level, selection, provider_id, owner_org_id)
            definition = checked_definition(
                title=title, level=level, form=form, selection=selection,
                school_based_content=school_based_content, hours=hours, provider_id=provider_id,
                owner_org_id=owner_org_id, starts_on=starts_on, ends_on=ends_on, sessions=sessions,
                capacity=capacity)
            programme.resubmit(definition, actor, unit.now)
            unit.add(programme)
            return 201, {"code": code, "needs_approval": programme.needs_approval}

        request = _definition_request("resubmit_programme", code, title, level, form, selection, hours,
                                      provider_id, owner_org_id, starts_on, ends_on, sessions,
                                      school_based_content, capacity)
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def decide_programme(
        self, actor: Actor, code: str, decision: Decision, reason: str, idempotency_key: str | None = None
    ) -> CommandResult:
        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, APPROVAL)
            programme = unit.programme(code)
            self.scopes.ensure_programme_supervisor(actor, programme)
            programme.decide(decision, reason, actor, unit.now)
            unit.add(programme)
            return 201, {"code": code, "decision": decision.value}

        request = {"op": "decide_programme", "code": code, "decision": decision, "reason": reason}
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def enrol(
        self,
        actor: Actor,
        code: str,
        teacher_no: str,
        idempotency_key: str | None = None,
        *,
        occurred_on: date | None = None,
        late_reason: str | None = None,
    ) -> CommandResult:
        """Enrol a teacher: the teacher (自主选课, self-selected programmes only) or their school; on
        `occurred_on` (default today), which the programme's end is judged against."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, SELF_OR_STAFF)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_teacher_self_or_staff(actor, teacher)
            programme = unit.programme(code)
            self.scopes.ensure_programme_for(actor, programme, teacher)
            if actor.role is Role.TEACHER and programme.selection != Selection.SELF_SELECTED:
                raise Forbidden("forbidden_scope", f"{code} is {programme.selection}: your school enrols you")
            occurred = unit.occurred(occurred_on, late_reason)
            programme.ensure_open_for_enrolment(occurred.on)
            teacher.ensure_not_departed()
            programme.ensure_seat_free(teacher_no)
            teacher.enrol(programme.facts(), self.policy, actor, unit.now, occurred=occurred)
            programme.take_seat(teacher_no, actor, unit.now)
            unit.add(teacher)
            unit.add(programme)
            return 201, {"code": code, "teacher_no": teacher_no}

        request = dated({"op": "enrol", "code": code, "teacher_no": teacher_no}, occurred_on, late_reason)
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def request_absence(
        self,
        actor: Actor,
        code: str,
        teacher_no: str,
        kind: AbsenceKind,
        reason: str,
        substitute_teacher_no: str | None = None,
        idempotency_key: str | None = None,
        *,
        occurred_on: date | None = None,
        late_reason: str | None = None,
    ) -> CommandResult:
        """Leave (请假) or a substitution (换人), filed on `occurred_on` (default today): before the
        programme's end."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, SELF_OR_STAFF)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_teacher_self_or_staff(actor, teacher)
            if code not in teacher.enrolments:  # in scope, and then not enrolled; or outside the scope
                self.scopes.ensure_programme_for(actor, unit.programme(code), teacher)
            if substitute_teacher_no is not None:
                substitute = unit.teacher(substitute_teacher_no)
                self.scopes.ensure_substitute(actor, teacher, substitute)
                if substitute.school_id != teacher.school_id:
                    raise Conflict("substitute_other_school", "the substitute must be from the same school")
                if code in substitute.enrolments:
                    raise Conflict("already_enrolled", f"teacher {substitute_teacher_no} is already enrolled in {code}")
                substitute.ensure_not_departed()
            occurred = unit.occurred(occurred_on, late_reason)
            teacher.request_absence(code, kind, reason, substitute_teacher_no, actor, unit.now, unit.today, occurred)
            unit.add(teacher)
            return 201, {"code": code, "teacher_no": teacher_no, "kind": kind.value, "status": "pending"}

        request = dated({"op": "absence", "code": code, "teacher_no": teacher_no, "kind": kind, "reason": reason,
                         "substitute": substitute_teacher_no}, occurred_on, late_reason)
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def decide_absence(
        self,
        actor: Actor,
        code: str,
        teacher_no: str,
        by: Approver,
        decision: Decision,
        reason: str = "",
        idempotency_key: str | None = None,
        *,
        occurred_on: date | None = None,
        late_reason: str | None = None,
    ) -> CommandResult:
        """One of the two approvals. The second approval of a substitution enrols the substitute
        in the absentee's place, in the same transaction."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            # the school answers for its teacher, the provider for its programme: each id is
            # looked up, and checked, in the order of the approver's scope
            if by is Approver.SCHOOL:
                self.scopes.gate(actor, STAFF_WORK)
                teacher = unit.teacher(teacher_no)
                self.scopes.ensure_staff_of_teacher(actor, teacher)
                programme = unit.programme(code)
                self.scopes.ensure_programme_for(actor, programme, teacher)
            else:
                self.scopes.gate(actor, PROVIDER_WORK)
                programme = unit.programme(code)
                self.scopes.ensure_programme_provider(actor, programme)
                teacher = unit.teacher(teacher_no)
                self.scopes.ensure_trainee(actor, programme, teacher)
            occurred = unit.occurred(occurred_on, late_reason)
            absence = teacher.decide_absence(code, by, decision, reason, actor, unit.now, occurred)
            unit.add(teacher)
            if absence.approved and absence.is_substitution:
                assert absence.substitute_teacher_no is not None
                substitute = unit.teacher(absence.substitute_teacher_no)
                substitute.ensure_not_departed()
                facts = teacher.enrolment(code).programme
                substitute.enrol(facts, self.policy, actor, unit.now, occurred=occurred, substitutes_for=teacher_no,
                                 reason=f"substitutes for {teacher_no}: {absence.reason}")
                programme.pass_seat(teacher_no, substitute.teacher_no, actor, unit.now, absence.reason)
                unit.add(substitute)
                unit.add(programme)
            return 201, {"code": code, "teacher_no": teacher_no, "status": absence.status}

        request = dated({"op": "absence_decision", "code": code, "teacher_no": teacher_no, "by": by,
                         "decision": decision, "reason": reason}, occurred_on, late_reason)
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def record_attendance(
        self,
        actor: Actor,
        code: str,
        session_no: int,
        present: Sequence[str],
        absent: Sequence[str],
        idempotency_key: str | None = None,
        *,
        late_reason: str | None = None,
    ) -> CommandResult:
        """A whole attendance sheet in one transaction: one refused line refuses the sheet. The marks
        happened on the session's day: a sheet sent more than `late_entry_days` after it is a late
        entry and needs `late_reason`."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            if len(present) + len(absent) > MAX_SHEET:
                raise Invalid("sheet_too_large", f"at most {MAX_SHEET} lines per sheet")
            both = set(present) & set(absent)
            if both:
                raise Invalid("present_and_absent", f"marked both present and absent: {', '.join(sorted(both))}")
            if len(set(present)) != len(present) or len(set(absent)) != len(absent):
                raise Invalid("duplicate_line", "a teacher appears twice on the sheet")
            self.scopes.gate(actor, PROVIDER_WORK)
            programme = unit.programme(code)
            self.scopes.ensure_programme_provider(actor, programme)
            session = programme.session(session_no)
            ensure_session_held(session, unit.today)
            occurred = unit.occurred(session["on"], late_reason)
            changed = 0
            for teacher_no, mark in [(t, True) for t in present] + [(t, False) for t in absent]:
                teacher = unit.teacher(teacher_no)
                self.scopes.ensure_trainee(actor, programme, teacher)
                if teacher.record_attendance(code, session_no, mark, actor, unit.now, occurred):
                    unit.add(teacher)
                    changed += 1
            return 201, {"code": code, "session_no": session_no, "recorded": changed,
                         "unchanged": len(present) + len(absent) - changed}

        request = dated({"op": "attendance", "code": code, "session": session_no, "present": list(present),
                         "absent": list(absent)}, None, late_reason)
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def reschedule_session(
        self, actor: Actor, code: str, session_no: int, on: date, reason: str, idempotency_key: str | None = None
    ) -> CommandResult:
        """Move a session not yet held to another day of the programme: the provider's work (as
        attendance sheets are), or a supervisor's above the owner or provider, or an admin's."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, PROVIDER_WORK)
            programme = unit.programme(code)
            self.scopes.ensure_programme_provider(actor, programme)
            programme.reschedule_session(session_no, on, reason, actor, unit.now, unit.today)
            unit.add(programme)
            return 201, {"code": code, "session_no": session_no, "on": on.isoformat()}

        request = {"op": "reschedule_session", "code": code, "session": session_no, "on": on, "reason": reason}
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)
