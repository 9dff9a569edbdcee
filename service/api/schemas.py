"""Request bodies of API v1 (docs/api.md): exactly its field names and enum values, bounded sizes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.vocabulary import (
    AbsenceKind,
    Approver,
    AssessmentResult,
    Decision,
    DepartureKind,
    DisputeDecision,
    Form,
    Level,
    OrgKind,
    SchoolBasedContent,
    Selection,
)

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
TeacherNo = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(max_length=2000)]
Text = Annotated[str, StringConstraints(max_length=4000)]
Score = Annotated[int, Field(ge=1, le=5, strict=True)]
Hours = Annotated[Decimal, Field(gt=0, le=2000, max_digits=6)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Dated(Body):
    """A write about a teacher's record: when the fact happened (Asia/Shanghai date, default today)
    and, for a late entry (补录), why it is recorded only now."""

    occurred_on: date | None = None
    late_reason: Reason | None = None


class OrgPut(Body):
    name: Name
    kind: OrgKind
    parent_id: Id | None = None


class TeacherCreate(Body):
    teacher_no: TeacherNo
    name: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    school_id: Id
    hired_on: date | None = None


class TransferCreate(Body):
    to_school_id: Id
    effective_on: date


class SessionIn(Body):
    no: Annotated[int, Field(ge=1, le=1000, strict=True)]
    on: date
    hours: Hours


class ProgrammeDefinition(Body):
    """A programme's definition: what a resubmission sends (its code is in the path)."""

    title: Name
    level: Level
    form: Form
    selection: Selection
    school_based_content: SchoolBasedContent | None = None
    hours: Hours
    provider_id: Id
    owner_org_id: Id
    starts_on: date
    ends_on: date
    sessions: Annotated[list[SessionIn], Field(max_length=500)]
    capacity: Annotated[int, Field(ge=1, le=1_000_000, strict=True)] | None = None


class ProgrammeCreate(ProgrammeDefinition):
    code: Id


class ApprovalIn(Body):
    decision: Decision
    reason: Reason = ""


class EnrolmentIn(Dated):
    teacher_no: TeacherNo


class AbsenceIn(Dated):
    kind: AbsenceKind
    reason: Reason
    substitute_teacher_no: TeacherNo | None = None


class AbsenceApprovalIn(Dated):
    by: Approver
    decision: Decision
    reason: Reason = ""


class RescheduleIn(Body):
    on: date
    reason: Reason


class AttendanceIn(Dated):
    """The marks happened on the session's day, whatever `occurred_on` says."""

    present: Annotated[list[TeacherNo], Field(max_length=5000)] = []
    absent: Annotated[list[TeacherNo], Field(max_length=5000)] = []


class AssessmentIn(Dated):
    teacher_no: TeacherNo
    attitude: Score
    assignments: Score
    result: AssessmentResult


class EvaluationIn(Dated):
    teacher_no: TeacherNo
    form: Score
    instructors: Score
    management: Score
    comment: Reason | None = None


class CreditIn(Dated):
    teacher_no: TeacherNo
    hours: Hours


class RevocationIn(Dated):
    reason: Reason


class EvidenceIn(Body):
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    sha256: Sha256


class DisputeIn(Dated):
    programme_code: Id
    claim: Text
    evidence: Annotated[list[EvidenceIn], Field(max_length=50)] = []


class ResolutionIn(Dated):
    decision: DisputeDecision
    reason: Reason
    award_hours: Hours | None = None


Part = Annotated[Decimal, Field(ge=0, le=2000, max_digits=6)]


class PriorHoursIn(Body):
    year: Annotated[int, Field(strict=True)]
    hours: Hours
    self_selected: Part | None = None
    school_based: Part | None = None
    concentrated: Part | None = None
    source: Name
    evidence: Annotated[list[EvidenceIn], Field(max_length=50)]
    reason: Reason


class CorrectionIn(Body):
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    hired_on: date | None = None
    reason: Reason


class DepartureIn(Body):
    kind: DepartureKind
    effective_on: date
    reason: Reason


class WithdrawalIn(Body):
    reason: Reason


class CancellationIn(Body):
    reason: Reason


class SignIn(Body):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class CertificateIn(Body):
    """An hours certificate: for a reporting year or one programme (exactly one), and what it is for."""

    year: Annotated[int, Field(strict=True)] | None = None
    programme_code: Id | None = None
    purpose: Annotated[str, StringConstraints(max_length=200)] = ""
