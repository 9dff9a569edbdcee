"""Authorisation scopes, enforced in the service layer: who may act on which org, teacher, programme.

Scope comes before existence. A caller names org units, teachers, programmes and disputes by their
ids; when an id lies outside its scope it is refused in the same words whether or not anything is
recorded under it (`outside`), so the answer tells it nothing it may not read. Each check has two
parts: who may ever do the operation (a `Gate`, checked before any record is read, so a role that
never may gets the same refusal either way), then where: whether the record the id names lies in
the caller's scope. An id under which nothing is recorded is outside every scope but an admin's and
its own holder's (`unknown`): the lookups of `service.application` ask it what to answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.actor import Actor
from domain.errors import DomainError, Forbidden, NotFound
from domain.org import OrgUnit
from domain.programme import Programme
from domain.teacher import Teacher
from domain.vocabulary import Role

OrgChain = Callable[[str], list[str]]
"""Returns an org id followed by its ancestors up to the root."""


class Kind(StrEnum):
    """The kinds of id a caller names whose existence is scoped."""

    ORG = "org"
    TEACHER = "teacher"
    PROGRAMME = "programme"
    DISPUTE = "dispute"


def outside(kind: Kind, ident: str) -> Forbidden:
    """The refusal of an id outside the caller's scope, whether or not anything is recorded under
    it: it names the id as the caller gave it, and nothing read from a record."""
    return Forbidden("forbidden_scope", f"{kind} {ident} is outside your scope")


def _deny(detail: str) -> Forbidden:
    return Forbidden("forbidden_scope", detail)


@dataclass(frozen=True)
class Gate:
    """Who may ever do an operation, whatever it acts on. A command checks it before it reads
    anything, so a role that never may is refused in the same words whether or not the ids it
    names exist."""

    roles: frozenset[Role]
    refusal: str
    writes: bool = True


def _gate(refusal: str, *roles: Role, writes: bool = True) -> Gate:
    return Gate(frozenset(roles), refusal, writes)


STAFF_WORK = _gate("only a teacher's school, or a supervisor above it, does this",
                   Role.ADMIN, Role.SUPERVISOR, Role.SCHOOL_ADMIN)
"""Transfer a teacher, the school's approval of an absence."""
SELF_OR_STAFF = _gate("a teacher, their school or a supervisor above it does this",
                      Role.ADMIN, Role.SUPERVISOR, Role.SCHOOL_ADMIN, Role.TEACHER)
"""Enrol, file an absence."""
DISPUTE_OPENING = _gate("a dispute is opened by the teacher or their school",
                        Role.ADMIN, Role.SCHOOL_ADMIN, Role.TEACHER)
EVALUATION = _gate("only the trainee evaluates a programme", Role.TEACHER)
APPROVAL = _gate("programmes are approved by a supervisor of their owner", Role.ADMIN, Role.SUPERVISOR)
PROVIDER_WORK = _gate("only a programme's provider, or a supervisor of it, does this",
                      Role.ADMIN, Role.SUPERVISOR, Role.PROVIDER, Role.SCHOOL_ADMIN)
"""Attendance, assessment, credit, the provider's approval of an absence."""
SUPERVISION = _gate("only a supervisor of the teacher's school does this", Role.ADMIN, Role.SUPERVISOR)
"""Revoke a credit, resolve a dispute."""
EVIDENCE_UPLOAD = _gate("evidence is uploaded by those who open disputes or record what cites it",
                        Role.ADMIN, Role.SUPERVISOR, Role.SCHOOL_ADMIN, Role.TEACHER)
"""Keep an evidence file (it is read by those whose scope covers a record citing it)."""
EVIDENCE_READ = _gate("providers do not read teachers' evidence",
                      Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR, Role.SCHOOL_ADMIN, Role.TEACHER, writes=False)
TEACHER_READ = _gate("providers do not read teachers' records",
                     Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR, Role.SCHOOL_ADMIN, Role.TEACHER, writes=False)
DISPUTE_READ = _gate("providers do not read teachers' disputes",
                     Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR, Role.SCHOOL_ADMIN, Role.TEACHER, writes=False)
APPROVALS_READ = _gate("what awaits a decision is listed for supervisors, schools and providers",
                       Role.ADMIN, Role.SUPERVISOR, Role.SCHOOL_ADMIN, Role.PROVIDER, writes=False)
ROSTER_READ = _gate("rosters are for providers, schools, supervisors and auditors",
                    Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR, Role.PROVIDER, Role.SCHOOL_ADMIN, writes=False)
IMPORTS: dict[str, Gate] = {  # who may ever import each kind of sheet
    "teachers": STAFF_WORK,
    "programmes": _gate("programmes are imported by their providers or supervisors",
                        Role.ADMIN, Role.SUPERVISOR, Role.PROVIDER, Role.SCHOOL_ADMIN),
    "enrolments": STAFF_WORK,
    "attendance": PROVIDER_WORK, "assessments": PROVIDER_WORK, "credits": PROVIDER_WORK,
    "prior-hours": _gate("earlier hours are recorded by a supervisor above the teachers' schools",
                         Role.ADMIN, Role.SUPERVISOR),
}
"""A sheet of a kind is refused whole for a role that never may record its rows; within the role
each row is checked against the caller's scope on its own (docs/import.md)."""


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

    # --- ids nothing is recorded under -------------------------------------------------------
    def unknown(self, actor: Actor, kind: Kind, ident: str, missing: NotFound) -> DomainError:
        """What a caller is told when nothing is recorded under an id it named: an admin, and a
        caller whose scope is that very id (a teacher's own number, an org unit's own id), that it
        does not exist; anyone else the refusal of an id outside its scope, word for word what an
        id recorded outside its scope gets (`outside`)."""
        if actor.role is Role.ADMIN:
            return missing
        if kind is Kind.TEACHER and actor.role is Role.TEACHER and actor.teacher_no == ident:
            return missing
        if kind is Kind.ORG and actor.org_id == ident:
            return missing
        return outside(kind, ident)

    # --- who may ever ------------------------------------------------------------------------
    def ensure_writer(self, actor: Actor) -> None:
        if actor.role is Role.AUDITOR:
            raise _deny("auditors read; they never write")

    def gate(self, actor: Actor, gate: Gate) -> None:
        """Refuse a role that never does this operation, before anything is read."""
        if gate.writes:
            self.ensure_writer(actor)
        if actor.role not in gate.roles:
            raise _deny(gate.refusal)

    # --- where: teachers ---------------------------------------------------------------------
    def covers_teacher(self, actor: Actor, teacher: Teacher | TeacherRef) -> bool:
        """Is the teacher in the actor's scope: an admin's, a supervisor's or auditor's below its
        org, a school's own staff, the teacher themself?"""
        if actor.role is Role.ADMIN:
            return True
        if actor.role in (Role.SUPERVISOR, Role.AUDITOR):
            return self.within(actor, teacher.school_id)
        if actor.role is Role.SCHOOL_ADMIN:
            return actor.org_id == teacher.school_id
        if actor.role is Role.TEACHER:
            return actor.teacher_no == teacher.teacher_no
        return False

    def _staff_of(self, actor: Actor, school_id: str) -> bool:
        if actor.role is Role.ADMIN:
            return True
        if actor.role is Role.SUPERVISOR:
            return self.within(actor, school_id)
        return actor.role is Role.SCHOOL_ADMIN and actor.org_id == school_id

    def ensure_staff_write(self, actor: Actor, school_id: str) -> None:
        """Register staff at `school_id` (the id the caller gave): admins, supervisors above it, the school."""
        self.gate(actor, STAFF_WORK)
        if not self._staff_of(actor, school_id):
            raise _deny(f"not allowed to act for staff of {school_id}")

    def ensure_staff_of_teacher(self, actor: Actor, teacher: Teacher) -> None:
        """Transfer a teacher, approve an absence for the school: whoever manages the teacher's school."""
        self.gate(actor, STAFF_WORK)
        if not self._staff_of(actor, teacher.school_id):
            raise outside(Kind.TEACHER, teacher.teacher_no)

    def ensure_teacher_self_or_staff(self, actor: Actor, teacher: Teacher) -> None:
        """The teacher themself, or whoever manages the teacher's school."""
        self.gate(actor, SELF_OR_STAFF)
        if actor.role is Role.TEACHER:
            if actor.teacher_no == teacher.teacher_no:
                return
        elif self._staff_of(actor, teacher.school_id):
            return
        raise outside(Kind.TEACHER, teacher.teacher_no)

    def ensure_dispute_opener(self, actor: Actor, teacher: Teacher) -> None:
        """A dispute is opened by the teacher or their school (a supervisor resolves it, so it does not open it)."""
        self.gate(actor, DISPUTE_OPENING)
        if actor.role is Role.ADMIN:
            return
        if actor.role is Role.TEACHER and actor.teacher_no == teacher.teacher_no:
            return
        if actor.role is Role.SCHOOL_ADMIN and actor.org_id == teacher.school_id:
            return
        raise outside(Kind.TEACHER, teacher.teacher_no)

    def ensure_teacher_self(self, actor: Actor, teacher: Teacher) -> None:
        """Only the teacher themself (evaluations are the trainee's own voice)."""
        self.gate(actor, EVALUATION)
        if actor.teacher_no != teacher.teacher_no:
            raise outside(Kind.TEACHER, teacher.teacher_no)

    def ensure_supervisor_of_teacher(self, actor: Actor, teacher: Teacher, named: tuple[Kind, str] | None = None
                                     ) -> None:
        """Revoke credits, resolve disputes: an admin or a supervisor above the teacher's school.
        The refusal names the id the caller gave (`named`: a dispute's), else the teacher's."""
        self.gate(actor, SUPERVISION)
        if actor.role is Role.ADMIN or self.within(actor, teacher.school_id):
            return
        raise outside(*(named or (Kind.TEACHER, teacher.teacher_no)))

    def ensure_trainee(self, actor: Actor, programme: Programme, teacher: Teacher) -> None:
        """A teacher a programme's provider acts on (a mark, an assessment, a credit, the provider's
        approval of an absence): one enrolled in it (now or before), or one in the caller's scope
        anyway; to a provider any other teacher is outside its scope, recorded or not."""
        if programme.code in teacher.enrolments or self.covers_teacher(actor, teacher):
            return
        raise outside(Kind.TEACHER, teacher.teacher_no)

    def ensure_substitute(self, actor: Actor, teacher: Teacher, substitute: Teacher) -> None:
        """A substitute named for an absence: a colleague at the absentee's school, or a teacher in
        the caller's scope anyway (who is then told why it cannot substitute)."""
        if substitute.school_id == teacher.school_id or self.covers_teacher(actor, substitute):
            return
        raise outside(Kind.TEACHER, substitute.teacher_no)

    # --- where: org units --------------------------------------------------------------------
    def ensure_org_write(self, actor: Actor, parent_id: str | None) -> None:
        """Register or rename an org: admins anywhere, supervisors below their own org."""
        self.ensure_writer(actor)
        if actor.role is Role.ADMIN:
            return
        if actor.role is Role.SUPERVISOR and parent_id is not None and self.within(actor, parent_id):
            return
        raise _deny("only an admin, or a supervisor within its org, registers org units")

    def ensure_org_rename(self, actor: Actor, org: OrgUnit) -> None:
        """An org unit already recorded under the id of a PUT: the caller's if it lies below its org."""
        if actor.role is Role.ADMIN or (org.parent_id is not None and self.within(actor, org.parent_id)):
            return
        raise outside(Kind.ORG, org.org_id)

    def ensure_org_read(self, actor: Actor, org_id: str) -> None:
        if actor.role is Role.ADMIN:
            return
        if actor.role in (Role.SUPERVISOR, Role.AUDITOR, Role.SCHOOL_ADMIN) and self.within(actor, org_id):
            return
        raise outside(Kind.ORG, org_id)

    # --- where: programmes -------------------------------------------------------------------
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
        self.gate(actor, APPROVAL)
        if actor.role is Role.ADMIN or self.within(actor, programme.owner_org_id):
            return
        raise outside(Kind.PROGRAMME, programme.code)

    def ensure_programme_provider(self, actor: Actor, programme: Programme) -> None:
        """Attendance, assessment, credit, the provider's absence approval: the provider's own work."""
        self.gate(actor, PROVIDER_WORK)
        if actor.role is Role.ADMIN:
            return
        if actor.role is Role.SUPERVISOR and (
            self.within(actor, programme.owner_org_id) or self.within(actor, programme.provider_id)
        ):
            return
        if actor.role in (Role.PROVIDER, Role.SCHOOL_ADMIN) and actor.org_id == programme.provider_id:
            return
        raise outside(Kind.PROGRAMME, programme.code)

    def ensure_programme_for(self, actor: Actor, programme: Programme, teacher: Teacher) -> None:
        """A programme named beside a teacher the caller acts on (an enrolment, an absence, an
        evaluation): one the teacher is (or was) enrolled in, one open to the teacher (owned at or
        above the teacher's school), or one the caller may read."""
        if actor.role is Role.ADMIN or programme.code in teacher.enrolments:
            return
        if programme.owner_org_id in self._chain(teacher.school_id) or self.may_read_programme(actor, programme, None):
            return
        raise outside(Kind.PROGRAMME, programme.code)

    def may_read_programme(self, actor: Actor, programme: Programme, teacher_school: str | None) -> bool:
        """A programme's definition: its provider and owner, supervisors and auditors above either,
        and teachers of schools below its owner (who may enrol)."""
        if actor.role is Role.ADMIN:
            return True
        if actor.role in (Role.SUPERVISOR, Role.AUDITOR):
            return self.within(actor, programme.owner_org_id) or self.within(actor, programme.provider_id)
        if actor.role in (Role.PROVIDER, Role.SCHOOL_ADMIN) and actor.org_id in (
            programme.provider_id, programme.owner_org_id
        ):
            return True
        if actor.role is Role.SCHOOL_ADMIN and actor.org_id is not None:
            return programme.owner_org_id in self._chain(actor.org_id)
        if actor.role is Role.TEACHER and teacher_school is not None:
            return programme.owner_org_id in self._chain(teacher_school)
        return False

    def ensure_programme_read(self, actor: Actor, programme: Programme, teacher_school: str | None) -> None:
        if not self.may_read_programme(actor, programme, teacher_school):
            raise outside(Kind.PROGRAMME, programme.code)

    def ensure_roster_read(self, actor: Actor, programme: Programme) -> None:
        """A programme's roster: its provider and owner, supervisors and auditors above either."""
        self.gate(actor, ROSTER_READ)
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
        raise outside(Kind.PROGRAMME, programme.code)

    # --- reads -------------------------------------------------------------------------------
    def ensure_teacher_read(self, actor: Actor, teacher: Teacher | TeacherRef) -> None:
        self.gate(actor, TEACHER_READ)
        if not self.covers_teacher(actor, teacher):
            raise outside(Kind.TEACHER, teacher.teacher_no)

    def ensure_list_org(self, actor: Actor, org_id: str, home_school: str | None = None,
                        catalogue: bool = False) -> None:
        """The unit a list is narrowed to (`?org_id=`): for an admin any; for a supervisor, auditor or
        school its own unit or one below; for a provider its own org; for a teacher (`home_school`:
        theirs) a unit at or above their school. With `catalogue` (the programme list), a school may
        also name a unit above it, whose programmes are open to its staff."""
        if actor.role is Role.ADMIN:
            return
        if actor.role in (Role.SUPERVISOR, Role.AUDITOR, Role.SCHOOL_ADMIN) and self.within(actor, org_id):
            return
        if catalogue and actor.role is Role.SCHOOL_ADMIN and actor.org_id is not None and (
            org_id in self._chain(actor.org_id)
        ):
            return
        if actor.role is Role.PROVIDER and actor.org_id == org_id:
            return
        if actor.role is Role.TEACHER and home_school is not None and org_id in self._chain(home_school):
            return
        raise outside(Kind.ORG, org_id)

    def ensure_audit_read(self, actor: Actor) -> None:
        """The whole-store check (verify) is for admins and auditors."""
        if actor.role in (Role.ADMIN, Role.AUDITOR):
            return
        raise _deny("audit reads are for auditors and admins")

    def ensure_account_admin(self, actor: Actor) -> None:
        """Accounts are created, disabled, enabled, reset and listed by admins."""
        if actor.role is Role.ADMIN:
            return
        raise _deny("accounts are managed by admins")

    def ensure_feed_read(self, actor: Actor) -> None:
        """The audit feed, filtered to the reader's subtree: admins, auditors and supervisors."""
        if actor.role in (Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR):
            return
        raise _deny("the audit feed is for auditors, supervisors and admins")
