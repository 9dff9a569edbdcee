"""The records a teacher's aggregate keeps, rebuilt from its events (never stored as such)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.vocabulary import AbsenceKind, Decision


@dataclass
class Absence:
    kind: str
    reason: str
    substitute_teacher_no: str | None
    requested_event_id: str
    requested_at: datetime
    decisions: dict[str, str] = field(default_factory=dict)  # by → decision

    @property
    def status(self) -> str:
        """pending until both approved; rejected as soon as one rejects (R4 in docs/domain.md: 学校和培训机构审批)."""
        if Decision.REJECTED in self.decisions.values():
            return "rejected"
        if len(self.decisions) == 2:
            return "approved"
        return "pending"

    @property
    def approved(self) -> bool:
        return self.status == "approved"

    @property
    def is_substitution(self) -> bool:
        return self.kind == AbsenceKind.SUBSTITUTION


@dataclass
class Attendance:
    present: bool
    event_id: str
    recorded_at: datetime


@dataclass
class Enrolment:
    programme: dict[str, Any]
    enrolled_at: datetime
    event_id: str
    substitutes_for: str | None
    absence: Absence | None = None
    attendance: dict[int, Attendance] = field(default_factory=dict)
    assessment: dict[str, Any] | None = None
    evaluation: dict[str, Any] | None = None

    @property
    def code(self) -> str:
        return str(self.programme["code"])

    @property
    def ends_on(self) -> date:
        ends_on: date = self.programme["ends_on"]
        return ends_on

    @property
    def starts_on(self) -> date:
        starts_on: date = self.programme["starts_on"]
        return starts_on

    @property
    def hours(self) -> Decimal:
        hours: Decimal = self.programme["hours"]
        return hours

    @property
    def absent(self) -> bool:
        """An approved leave or substitution: the enrolment is excused from attending."""
        return self.absence is not None and self.absence.approved

    @property
    def attended(self) -> bool:
        return any(a.present for a in self.attendance.values())

    def attendance_rate(self, session_nos: list[int] | None = None) -> Decimal:
        """Sessions present at over `session_nos` (the programme's sessions now, when given: a
        cancelled session counts no more), else the sessions the enrolment recorded."""
        nos = self.programme["session_nos"] if session_nos is None else session_nos
        present = sum(1 for no in nos if no in self.attendance and self.attendance[no].present)
        return (Decimal(present) / Decimal(len(nos))).quantize(Decimal("0.0001")) if nos else Decimal(0)


@dataclass
class Credit:
    credit_id: str
    programme_code: str
    title: str
    level: str
    form: str
    selection: str
    school_based_content: str | None
    hours: Decimal
    credits: Decimal
    year: int
    awarded_at: datetime
    awarded_on: date
    school_id: str
    certified_by: dict[str, str]
    event_id: str
    policy_version: str
    evidence: dict[str, Any]
    revoked: bool = False
    revoked_event_id: str | None = None
    revoked_reason: str | None = None

    @property
    def status(self) -> str:
        return "revoked" if self.revoked else "valid"


@dataclass
class Dispute:
    dispute_id: str
    programme_code: str
    claim: str
    evidence: list[dict[str, str]]
    opened_at: datetime
    event_id: str
    decision: str | None = None
    resolution_reason: str | None = None
    resolved_event_id: str | None = None
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.decision is None


@dataclass
class Posting:
    """Which school the teacher belonged to from a date on."""

    school_id: str
    from_date: date | None
    event_id: str


@dataclass
class PriorHours:
    """Hours certified on an earlier platform (历史学时), recorded for a reporting year: they count
    like a credit of that year (domain/rules/prior_hours.py says which figure each part feeds)."""

    record_id: str
    year: int
    hours: Decimal
    self_selected: Decimal
    school_based: Decimal
    concentrated: Decimal
    source: str
    evidence: list[dict[str, str]]
    recorded_at: datetime
    recorded_by: dict[str, str]
    event_id: str
    reason: str
    revoked: bool = False
    revoked_event_id: str | None = None
    revoked_reason: str | None = None

    @property
    def status(self) -> str:
        return "revoked" if self.revoked else "valid"


@dataclass
class Certificate:
    """An hours certificate (学时证明) as issued: what it counted, who issued it under which
    authority, and the transparency checkpoint of the log it was issued under (if known)."""

    certificate_no: str
    year: int | None
    programme_code: str | None
    lines: list[dict[str, Any]]
    hours: Decimal
    teacher_name: str
    school_id: str
    school_name: str
    issuer_org_id: str
    issuer_org_name: str
    purpose: str
    issued_at: datetime
    issued_on: date
    issued_by: dict[str, str]
    event_id: str
    checkpoint_size: int | None = None
    checkpoint_root: str | None = None
