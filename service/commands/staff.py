"""Commands on org units and teachers: register, rename, transfer."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.actor import Actor
from domain.errors import Conflict, Invalid
from domain.ids import org_uuid, teacher_uuid
from domain.org import OrgUnit
from domain.teacher import Teacher, ensure_teacher_no
from domain.vocabulary import OrgKind
from service.application.base import TrainRecBase
from service.application.unit import CommandResult, Unit
from service.auth.scopes import STAFF_WORK


def ensure_school(org_id: str, kind: str) -> None:
    if kind != OrgKind.SCHOOL:
        raise Invalid("not_a_school", f"org {org_id} is a {kind}, not a school")


class StaffCommands(TrainRecBase):
    def put_org(
        self,
        actor: Actor,
        org_id: str,
        name: str,
        kind: OrgKind,
        parent_id: str | None,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Register an org unit (201), or rename it (200); kind and parent are fixed."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.ensure_org_write(actor, parent_id)
            body = {"org_id": org_id, "name": name.strip(), "kind": kind.value, "parent_id": parent_id}
            if unit.exists(org_uuid(org_id)):
                org = unit.org(org_id)
                self.scopes.ensure_org_rename(actor, org)  # before its kind and parent are compared
                if org.rename(name, kind, parent_id, actor, unit.now):
                    unit.add(org)
                return 200, body
            parent = unit.org(parent_id) if parent_id is not None else None
            unit.add(OrgUnit.register(org_id, name, kind, parent, actor, unit.now))
            return 201, body

        request = {"op": "put_org", "org_id": org_id, "name": name, "kind": kind, "parent_id": parent_id}
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def register_teacher(
        self,
        actor: Actor,
        teacher_no: str,
        name: str,
        school_id: str,
        hired_on: date | None = None,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            ensure_teacher_no(teacher_no)
            self.scopes.ensure_staff_write(actor, school_id)
            ensure_school(school_id, self.org_kind(school_id))
            if unit.taken(teacher_uuid(teacher_no)):
                raise Conflict("teacher_exists", f"teacher {teacher_no} is already registered")
            teacher = Teacher.register(teacher_no, name, school_id, hired_on, actor, unit.now)
            unit.add(teacher)
            return 201, {"teacher_no": teacher_no, "name": teacher.name, "school_id": school_id}

        request = {"op": "register_teacher", "teacher_no": teacher_no, "name": name,
                   "school_id": school_id, "hired_on": hired_on}
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)

    def transfer_teacher(
        self,
        actor: Actor,
        teacher_no: str,
        to_school_id: str,
        effective_on: date,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Move a teacher to another school; the school they leave (or a supervisor) records it."""

        def handle(unit: Unit) -> tuple[int, dict[str, Any]]:
            self.scopes.gate(actor, STAFF_WORK)
            teacher = unit.teacher(teacher_no)
            self.scopes.ensure_staff_of_teacher(actor, teacher)
            ensure_school(to_school_id, self.org_kind(to_school_id))
            teacher.ensure_not_departed()
            teacher.transfer(to_school_id, effective_on, actor, unit.now, unit.today)
            unit.add(teacher)
            return 201, {"teacher_no": teacher_no, "school_id": to_school_id}

        request = {"op": "transfer", "teacher_no": teacher_no, "to": to_school_id, "on": effective_on}
        return self.execute(actor, handle, idempotency_key=idempotency_key, request=request)
