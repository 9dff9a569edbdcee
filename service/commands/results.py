"""Commands on a trainee's results: assessment, evaluation, credits, revocations, disputes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from domain.actor import Actor
from domain.ids import programme_uuid
from domain.programme import Programme
from domain.vocabulary import AssessmentResult, DisputeDecision
from service.application.base import TrainRecBase
from service.application.unit import CommandResult, Unit
from service.application.values import dated
from service.auth.scopes import DISPUTE_OPENING, EVALUATION, PROVIDER_WORK, SUPERVISION, Kind
from service.commands.lifecycle import ensure_credit_within_current_hours
from service.records import DisputeIndex


class RecordCommands(TrainRecBase):
    def assess(
        self,
        actor: Actor,
        code: str,
        teacher_no: str,
        attitude: int,
        assignments: int,
        result: AssessmentResult,
        idempotency_key: str | None = None,
        *,
        occurred_on: date | None = None,
        late_reason: str | None = None,
    ) -> CommandResult:
        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, PROVIDER_WORK)
            programme = unit.programme(code)
            self.scopes.ensure_programme_provider(actor, programme)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_trainee(actor, programme, teacher)
            occurred = unit.occurred(occurred_on, late_reason)
            teacher.assess(code, attitude, assignments, result, self.policy, actor, unit.now, occurred,
                           session_nos=[s["no"] for s in programme.sessions])
            unit.add(teacher)
            assessment = teacher.enrolment(code).assessment
            assert assessment is not None
            return 201, {"code": code, "teacher_no": teacher_no, "late": assessment["late"]}

        request = dated({"op": "assess", "code": code, "teacher_no": teacher_no, "attitude": attitude,
                         "assignments": assignments, "result": result}, occurred_on, late_reason)
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def evaluate(
        self,
        actor: Actor,
        code: str,
        teacher_no: str,
        form: int,
        instructors: int,
        management: int,
        comment: str | None = None,
        idempotency_key: str | None = None,
        *,
        occurred_on: date | None = None,
        late_reason: str | None = None,
    ) -> CommandResult:
        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, EVALUATION)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_teacher_self(actor, teacher)
            if code not in teacher.enrolments:  # in scope, and then not enrolled; or outside the scope
                self.scopes.ensure_programme_for(actor, unit.programme(code), teacher)
            occurred = unit.occurred(occurred_on, late_reason)
            teacher.evaluate(code, form, instructors, management, comment, self.policy, actor, unit.now, occurred)
            unit.add(teacher)
            evaluation = teacher.enrolment(code).evaluation
            assert evaluation is not None
            return 201, {"code": code, "teacher_no": teacher_no, "late": evaluation["late"]}

        request = dated({"op": "evaluate", "code": code, "teacher_no": teacher_no, "form": form,
                         "instructors": instructors, "management": management, "comment": comment},
                        occurred_on, late_reason)
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def award_credit(
        self,
        actor: Actor,
        code: str,
        teacher_no: str,
        hours: Decimal,
        idempotency_key: str | None = None,
        *,
        occurred_on: date | None = None,
        late_reason: str | None = None,
    ) -> CommandResult:
        """学时认定 by the programme's provider (a school for its own 校本) or a supervisor."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, PROVIDER_WORK)
            programme = unit.programme(code)
            self.scopes.ensure_programme_provider(actor, programme)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_trainee(actor, programme, teacher)
            credit_id = self.new_id("C")
            ensure_credit_within_current_hours(hours, programme)
            occurred = unit.occurred(occurred_on, late_reason)
            teacher.award_credit(credit_id, code, hours, self.policy, actor, unit.now, occurred=occurred)
            unit.add(teacher)
            return 201, {"credit_id": credit_id}

        request = dated({"op": "credit", "code": code, "teacher_no": teacher_no, "hours": hours},
                        occurred_on, late_reason)
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def revoke_credit(
        self,
        actor: Actor,
        teacher_no: str,
        credit_id: str,
        reason: str,
        idempotency_key: str | None = None,
        *,
        occurred_on: date | None = None,
        late_reason: str | None = None,
    ) -> CommandResult:
        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, SUPERVISION)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_supervisor_of_teacher(actor, teacher)
            occurred = unit.occurred(occurred_on, late_reason)
            teacher.revoke_credit(credit_id, reason, actor, unit.now, occurred=occurred)
            unit.add(teacher)
            return 201, {"credit_id": credit_id, "status": "revoked"}

        request = dated({"op": "revoke", "teacher_no": teacher_no, "credit_id": credit_id, "reason": reason},
                        occurred_on, late_reason)
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def open_dispute(
        self,
        actor: Actor,
        teacher_no: str,
        programme_code: str,
        claim: str,
        evidence: Sequence[dict[str, str]],
        idempotency_key: str | None = None,
        *,
        occurred_on: date | None = None,
        late_reason: str | None = None,
    ) -> CommandResult:
        """A teacher, or their school, contests a credit or a missing one (申诉)."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, DISPUTE_OPENING)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_dispute_opener(actor, teacher)
            dispute_id = self.new_id("D")
            occurred = unit.occurred(occurred_on, late_reason)
            teacher.open_dispute(dispute_id, programme_code, claim, evidence, actor, unit.now, occurred)
            unit.add(teacher)
            unit.add(DisputeIndex.index(dispute_id, teacher_no, actor, unit.now))
            return 201, {"dispute_id": dispute_id}

        request = dated({"op": "dispute", "teacher_no": teacher_no, "code": programme_code, "claim": claim,
                         "evidence": list(evidence)}, occurred_on, late_reason)
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def resolve_dispute(
        self,
        actor: Actor,
        dispute_id: str,
        decision: DisputeDecision,
        reason: str,
        award_hours: Decimal | None = None,
        idempotency_key: str | None = None,
        *,
        occurred_on: date | None = None,
        late_reason: str | None = None,
    ) -> CommandResult:
        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, SUPERVISION)
            index = unit.dispute(dispute_id)
            teacher = unit.teacher(index.teacher_no)
            # refused in the words an unknown dispute id gets: the caller named the dispute, not the teacher
            self.scopes.ensure_supervisor_of_teacher(actor, teacher, named=(Kind.DISPUTE, dispute_id))
            code = teacher.dispute(dispute_id).programme_code
            if award_hours is not None and code in teacher.enrolments:  # hours as the programme has them now
                ensure_credit_within_current_hours(
                    award_hours, unit.get(Programme, programme_uuid(code), "programme_not_found", code))
            occurred = unit.occurred(occurred_on, late_reason)
            credit_id = teacher.resolve_dispute(
                dispute_id, decision, reason, award_hours, self.new_id("C"), self.policy, actor, unit.now, occurred
            )
            unit.add(teacher)
            body: dict[str, Any] = {"dispute_id": dispute_id, "decision": decision.value}
            if credit_id is not None:
                body["credit_id"] = credit_id
            return 201, body

        request = dated({"op": "resolve", "dispute_id": dispute_id, "decision": decision, "reason": reason,
                         "award_hours": award_hours}, occurred_on, late_reason)
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)
