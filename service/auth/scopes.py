"""Authorisation scopes, enforced in the service layer: who may act on which org, teacher, programme."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from domain.actor import Actor
from domain.errors import Forbidden
from domain.programme import Programme
from domain.teacher import Teacher
from domain.vocabulary import Role

OrgChain = Callable[[str], list[str]]
"""Returns an org id followed by its ancestors up to the root."""


def _deny(detail: str) -> Forbidden:
    return Forbidden("forbidden_scope", detail)


class TeacherRef(Protocol):
    """What a read scope needs of a teacher: who, and at which school now."""

    @property
    def teacher_no(self) -> str: ...

    @property
    def school_id(self) -> str: ...


class Scopes:
    def __init__(self, org_chain: OrgChain) -> None:
        self._chain = org_chain

    def within(self, actor: Actor, org_id: str) -> bool:
        """Is `org_id` the actor's org or below it?"""
        return actor.org_id is not None and actor.org_id in self._chain(org_id)

    # --- writes ----------------------------------------------------------------------------
    def ensure_writer(self, actor: Actor) -> None:
        if actor.role is Role.AUDITOR:
            raise _deny("auditors read; they never write")

    def ensure_org_write(self, actor: Actor, parent_id: str | None) -> None:
        """Register or rename an org: admins anywhere, supervisors below their own org."""
        self.ensure_writer(actor)
        if actor.role is Role.ADMIN:
            return
        if actor.role is Role.SUPERVISOR and parent_id is not None and self.within(actor, parent_id):
            return
        raise _deny("only an admin, or a supervisor within its org, registers org units")

    def ensure_staff_write(self, actor: Actor, school_id: str) -> None:
        """Register, transfer or enrol staff of `school_id`."""
        self.ensure_writer(actor)
        if actor.role is Role.ADMIN:
            return
        if actor.role is Role.SUPERVISOR and self.within(actor, school_id):
            return
        if actor.role is Role.SCHOOL_ADMIN and actor.org_id == school_id:
            return
        raise _deny(f"not allowed to act for staff of {school_id}")

    def ensure_teacher_self_or_staff(self, actor: Actor, teacher: Teacher) -> None:
        """The teacher themself, or whoever manages the teacher's school."""
        if actor.role is Role.TEACHER:
            if actor.teacher_no == teacher.teacher_no:
                return
            raise _deny("a teacher acts only on their own records")
        self.ensure_staff_write(actor, teacher.school_id)

    def ensure_dispute_opener(self, actor: Actor, teacher: Teacher) -> None:
        """A dispute is opened by the teacher or their school (a supervisor resolves it, so it does not open it)."""
        self.ensure_writer(actor)
        if actor.role is Role.ADMIN:
            return
        if actor.role is Role.TEACHER and actor.teacher_no == teacher.teacher_no:
            return
        if actor.role is Role.SCHOOL_ADMIN and actor.org_id == teacher.school_id:
            return
        raise _deny("a dispute is opened by the teacher or their school")

    def ensure_teacher_self(self, actor: Actor, teacher: Teacher) -> None:
        """Only the teacher themself (evaluations are the trainee's own voice)."""
        self.ensure_writer(actor)
        if actor.role is Role.TEACHER and actor.teacher_no == teacher.teacher_no:
            return
        raise _deny("only the trainee evaluates a programme")

    def ensure_programme_define(self, actor: Actor, owner_org_id: str, provider_id: str) -> None:
        self.ensure_writer(actor)
        if actor.role is Role.ADMIN:
            return
        if actor.role is Role.SUPERVISOR and self.within(actor, owner_org_id):
            return
        if actor.role in (Role.PROVIDER, Role.SCHOOL_ADMIN) and actor.org_id == provider_id:
            return
        raise _deny("programmes are defined by their provider or a supervisor of their owner")

    def ensure_programme_supervisor(self, actor: Actor, programme: Programme) -> None:
        """Approve a programme: an admin, or a supervisor above its owner (审核认定)."""
        self.ensure_writer(actor)
        if actor.role is Role.ADMIN:
            return
        if actor.role is Role.SUPERVISOR and self.within(actor, programme.owner_org_id):
            return
        raise _deny("programmes are approved by a supervisor of their owner")

    def ensure_programme_provider(self, actor: Actor, programme: Programme) -> None:
        """Attendance, assessment, credit, the provider's absence approval: the provider's own work."""
        self.ensure_writer(actor)
        if actor.role is Role.ADMIN:
            return
        if actor.role is Role.SUPERVISOR and (
            self.within(actor, programme.owner_org_id) or self.within(actor, programme.provider_id)
        ):
            return
        if actor.role in (Role.PROVIDER, Role.SCHOOL_ADMIN) and actor.org_id == programme.provider_id:
            return
        raise _deny(f"only the provider of {programme.code} does this")

    def ensure_supervisor_of_teacher(self, actor: Actor, teacher: Teacher) -> None:
        """Revoke credits, resolve disputes: an admin or a supervisor above the teacher's school."""
        self.ensure_writer(actor)
        if actor.role is Role.ADMIN:
            return
        if actor.role is Role.SUPERVISOR and self.within(actor, teacher.school_id):
            return
        raise _deny("only a supervisor of the teacher's school does this")

    # --- reads -----------------------------------------------------------------------------
    def ensure_teacher_read(self, actor: Actor, teacher: Teacher | TeacherRef) -> None:
        if actor.role is Role.ADMIN:
            return
        if actor.role in (Role.SUPERVISOR, Role.AUDITOR) and self.within(actor, teacher.school_id):
            return
        if actor.role is Role.SCHOOL_ADMIN and actor.org_id == teacher.school_id:
            return
        if actor.role is Role.TEACHER and actor.teacher_no == teacher.teacher_no:
            return
        raise _deny(f"teacher {teacher.teacher_no} is outside your scope")

    def ensure_org_read(self, actor: Actor, org_id: str) -> None:
        if actor.role is Role.ADMIN:
            return
        if actor.role in (Role.SUPERVISOR, Role.AUDITOR, Role.SCHOOL_ADMIN) and self.within(actor, org_id):
            return
        raise _deny(f"org {org_id} is outside your scope")

    def ensure_audit_read(self, actor: Actor) -> None:
        """The whole-store check (verify) is for admins and auditors."""
        if actor.role in (Role.ADMIN, Role.AUDITOR):
            return
        raise _deny("audit reads are for auditors and admins")

    def ensure_feed_read(self, actor: Actor) -> None:
        """The audit feed, filtered to the reader's subtree: admins, auditors and supervisors."""
        if actor.role in (Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR):
            return
        raise _deny("the audit feed is for auditors, supervisors and admins")

    def ensure_programme_read(self, actor: Actor, programme: Programme, teacher_school: str | None) -> None:
        """A programme's definition: its provider and owner, supervisors and auditors above either,
        and teachers of schools below its owner (who may enrol)."""
        if actor.role is Role.ADMIN:
            return
        if actor.role in (Role.SUPERVISOR, Role.AUDITOR) and (
            self.within(actor, programme.owner_org_id) or self.within(actor, programme.provider_id)
        ):
            return
        if actor.role in (Role.PROVIDER, Role.SCHOOL_ADMIN) and actor.org_id in (
            programme.provider_id, programme.owner_org_id
        ):
            return
        if actor.role is Role.SCHOOL_ADMIN and actor.org_id is not None and programme.owner_org_id in self._chain(
            actor.org_id
        ):
            return
        if actor.role is Role.TEACHER and teacher_school is not None and programme.owner_org_id in self._chain(
            teacher_school
        ):
            return
        raise _deny(f"programme {programme.code} is outside your scope")
