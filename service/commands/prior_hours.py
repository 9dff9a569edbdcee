"""Commands on earlier hours (历史学时): record them, revoke them. A supervisor above the teacher's
school, or an admin, does both (never the school itself: it would certify its own staff's hours)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from domain.actor import Actor
from service.application.base import TrainRecBase
from service.application.unit import CommandResult, Unit
from service.auth.scopes import SUPERVISION


class PriorHoursCommands(TrainRecBase):
    def record_prior_hours(
        self,
        actor: Actor,
        teacher_no: str,
        year: int,
        hours: Decimal,
        source: str,
        evidence: Sequence[dict[str, str]],
        reason: str,
        self_selected: Decimal | None = None,
        school_based: Decimal | None = None,
        concentrated: Decimal | None = None,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, SUPERVISION)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_supervisor_of_teacher(actor, teacher)
            record_id = self.new_id("H")
            teacher.record_prior_hours(record_id, year, hours, (self_selected, school_based, concentrated), source,
                                       evidence, reason, self.policy, actor, unit.now)
            unit.add(teacher)
            return 201, {"record_id": record_id}

        request = {"op": "prior_hours", "teacher_no": teacher_no, "year": year, "hours": hours,
                   "self_selected": self_selected, "school_based": school_based, "concentrated": concentrated,
                   "source": source, "evidence": list(evidence), "reason": reason}
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def revoke_prior_hours(
        self, actor: Actor, teacher_no: str, record_id: str, reason: str, idempotency_key: str | None = None
    ) -> CommandResult:
        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, SUPERVISION)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_supervisor_of_teacher(actor, teacher)
            teacher.revoke_prior_hours(record_id, reason, actor, unit.now)
            unit.add(teacher)
            return 201, {"record_id": record_id, "status": "revoked"}

        request = {"op": "revoke_prior_hours", "teacher_no": teacher_no, "record_id": record_id, "reason": reason}
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)
