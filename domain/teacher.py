"""The teacher's own aggregate: every training fact of one teacher, as immutable events.

Commands check the rules of `domain.rules` before triggering an event; events only apply
state. Corrections are new events that reference (`corrects`) the event they correct.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.actor import Actor
from domain.chained import ChainedAggregate
from domain.errors import Conflict, Invalid, NotFound
from domain.ids import event_id, teacher_uuid
from domain.policy import Policy
from domain.rules.absence import ensure_absence_can_be_filed, ensure_absence_decidable, ensure_reason
from domain.rules.assessment import ensure_assessable, ensure_programme_ended, ensure_score
from domain.rules.attendance import ensure_not_excused, ensure_session_of_enrolment
from domain.rules.certificates import certified_lines, ensure_purpose, ensure_subject
from domain.rules.credits import (
    ensure_credit_once_per_programme,
    ensure_credit_within_programme_hours,
    ensure_passing_assessment,
)
from domain.rules.disputes import ensure_claim, ensure_evidence, ensure_no_open_dispute, ensure_resolvable
from domain.rules.enrolment import (
    ensure_evaluations_done_before_new_term,
    ensure_not_already_enrolled,
    ensure_school_based_for_own_staff,
)
from domain.rules.evaluation import ensure_comment, ensure_evaluable
from domain.rules.hours import ensure_valid_hours
from domain.rules.late_entry import Occurrence, recorded_then
from domain.rules.lifecycle import (
    ensure_departure_in_order,
    ensure_hired_on,
    ensure_hired_on_in_order,
    ensure_name,
    ensure_not_departed,
    ensure_programme_not_started,
)
from domain.rules.prior_hours import (
    ensure_breakdown,
    ensure_not_recorded_before,
    ensure_prior_evidence,
    ensure_prior_revocable,
    ensure_prior_year,
    ensure_source,
)
from domain.rules.transfers import ensure_transfer_in_order
from domain.teacher_records import (
    Absence,
    Attendance,
    Certificate,
    Credit,
    Dispute,
    Enrolment,
    Posting,
    PriorHours,
)
from domain.vocabulary import AbsenceKind, Approver, AssessmentResult, Decision, DepartureKind, DisputeDecision

MAX_TEACHER_NO = 32
MAX_NAME = 50


def ensure_teacher_no(teacher_no: str) -> None:
    if not teacher_no or len(teacher_no) > MAX_TEACHER_NO or teacher_no != teacher_no.strip() or "/" in teacher_no:
        raise Invalid("invalid_teacher_no", f"teacher_no must be 1–{MAX_TEACHER_NO} characters, no '/'")


class Teacher(ChainedAggregate):
    if TYPE_CHECKING:
        teacher_no: str
        name: str
        hired_on: date | None
        postings: list[Posting]
        enrolments: dict[str, Enrolment]
        credits: dict[str, Credit]
        disputes: dict[str, Dispute]

    # --- events ----------------------------------------------------------------------------
    # Every event about the teacher's record keeps when the fact happened (`occurred_on`) beside the
    # instant it was recorded, and whether it was a late entry (补录) with its reason: v2 of each
    # (v3 of Assessed). Events stored before load as having happened on the day they were recorded.
    class Registered(ChainedAggregate.Created):
        teacher_no: str
        name: str
        school_id: str
        hired_on: date | None

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.teacher_no = self.teacher_no
            aggregate.name = self.name
            aggregate.hired_on = self.hired_on
            aggregate.postings = [
                Posting(self.school_id, self.hired_on, event_id(self.originator_id, self.originator_version))
            ]
            aggregate.enrolments = {}
            aggregate.credits = {}
            aggregate.disputes = {}

    class Transferred(ChainedAggregate.Event):
        from_school_id: str
        to_school_id: str
        effective_on: date

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.postings.append(
                Posting(self.to_school_id, self.effective_on, event_id(self.originator_id, self.originator_version))
            )

    class Enrolled(ChainedAggregate.Event):
        programme: dict[str, Any]
        substitutes_for: str | None
        occurred_on: date
        late_entry: bool
        late_reason: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            recorded_then(state)

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            code = self.programme["code"]
            aggregate.enrolments[code] = Enrolment(
                programme=dict(self.programme),
                enrolled_at=self.timestamp,
                event_id=event_id(self.originator_id, self.originator_version),
                substitutes_for=self.substitutes_for,
            )

    class AbsenceRequested(ChainedAggregate.Event):
        programme_code: str
        kind: str
        substitute_teacher_no: str | None
        occurred_on: date
        late_entry: bool
        late_reason: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            recorded_then(state)

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.enrolments[self.programme_code].absence = Absence(
                kind=self.kind,
                reason=self.reason,
                substitute_teacher_no=self.substitute_teacher_no,
                requested_event_id=event_id(self.originator_id, self.originator_version),
                requested_at=self.timestamp,
            )

    class AbsenceDecided(ChainedAggregate.Event):
        programme_code: str
        by: str
        decision: str
        occurred_on: date
        late_entry: bool
        late_reason: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            recorded_then(state)

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            absence = aggregate.enrolments[self.programme_code].absence
            absence.decisions[self.by] = self.decision

    class AttendanceRecorded(ChainedAggregate.Event):
        programme_code: str
        session_no: int
        present: bool
        corrects: str | None
        occurred_on: date
        late_entry: bool
        late_reason: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            recorded_then(state)

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.enrolments[self.programme_code].attendance[self.session_no] = Attendance(
                self.present, event_id(self.originator_id, self.originator_version), self.timestamp
            )

    class Assessed(ChainedAggregate.Event):
        """v2 added `attendance_rate` (到课率 at the time of assessment); v1 assessments load with
        None, since the rate can be recomputed from their attendance events. v3 added the effective
        date (`occurred_on`, `late_entry`, `late_reason`), as v2 of the other teacher events did."""

        class_version = 3

        programme_code: str
        attitude: int
        assignments: int
        attendance_rate: Decimal | None
        result: str
        due_on: date
        late: bool
        policy_version: str
        occurred_on: date
        late_entry: bool
        late_reason: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["attendance_rate"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            recorded_then(state)

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.enrolments[self.programme_code].assessment = {
                "attitude": self.attitude,
                "assignments": self.assignments,
                "attendance_rate": self.attendance_rate,
                "result": self.result,
                "late": self.late,
                "due_on": self.due_on,
                "assessed_at": self.timestamp,
                "assessed_by": self.actor,
                "event_id": event_id(self.originator_id, self.originator_version),
            }

    class Evaluated(ChainedAggregate.Event):
        programme_code: str
        form: int
        instructors: int
        management: int
        comment: str | None
        due_on: date
        late: bool
        policy_version: str
        occurred_on: date
        late_entry: bool
        late_reason: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            recorded_then(state)

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.enrolments[self.programme_code].evaluation = {
                "form": self.form,
                "instructors": self.instructors,
                "management": self.management,
                "comment": self.comment,
                "late": self.late,
                "due_on": self.due_on,
                "evaluated_at": self.timestamp,
                "event_id": event_id(self.originator_id, self.originator_version),
            }

    class CreditAwarded(ChainedAggregate.Event):
        credit_id: str
        programme: dict[str, Any]
        hours: Decimal
        credits: Decimal
        year: int
        awarded_on: date
        school_id: str
        policy_version: str
        evidence: dict[str, Any]
        occurred_on: date
        late_entry: bool
        late_reason: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            recorded_then(state)

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            p = self.programme
            aggregate.credits[self.credit_id] = Credit(
                credit_id=self.credit_id,
                programme_code=p["code"],
                title=p["title"],
                level=p["level"],
                form=p["form"],
                selection=p["selection"],
                school_based_content=p["school_based_content"],
                hours=self.hours,
                credits=self.credits,
                year=self.year,
                awarded_at=self.timestamp,
                awarded_on=self.awarded_on,
                school_id=self.school_id,
                certified_by=self.actor,
                event_id=event_id(self.originator_id, self.originator_version),
                policy_version=self.policy_version,
                evidence=dict(self.evidence),
            )

    class CreditRevoked(ChainedAggregate.Event):
        credit_id: str
        dispute_id: str | None
        occurred_on: date
        late_entry: bool
        late_reason: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            recorded_then(state)

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            credit = aggregate.credits[self.credit_id]
            credit.revoked = True
            credit.revoked_event_id = event_id(self.originator_id, self.originator_version)
            credit.revoked_reason = self.reason

    class DisputeOpened(ChainedAggregate.Event):
        dispute_id: str
        programme_code: str
        claim: str
        evidence: list[dict[str, str]]
        occurred_on: date
        late_entry: bool
        late_reason: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            recorded_then(state)

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.disputes[self.dispute_id] = Dispute(
                dispute_id=self.dispute_id,
                programme_code=self.programme_code,
                claim=self.claim,
                evidence=[dict(e) for e in self.evidence],
                opened_at=self.timestamp,
                event_id=event_id(self.originator_id, self.originator_version),
            )

    class DisputeResolved(ChainedAggregate.Event):
        dispute_id: str
        decision: str
        award_hours: Decimal | None
        occurred_on: date
        late_entry: bool
        late_reason: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            recorded_then(state)

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            dispute = aggregate.disputes[self.dispute_id]
            dispute.decision = self.decision
            dispute.resolution_reason = self.reason
            dispute.resolved_event_id = event_id(self.originator_id, self.originator_version)
            dispute.resolved_at = self.timestamp

    class PriorHoursRecorded(ChainedAggregate.Event):
        """Hours certified on an earlier platform (历史学时) for a reporting year, with their breakdown."""

        record_id: str
        year: int
        hours: Decimal
        self_selected: Decimal
        school_based: Decimal
        concentrated: Decimal
        source: str
        evidence: list[dict[str, str]]

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.prior()[self.record_id] = PriorHours(
                record_id=self.record_id,
                year=self.year,
                hours=self.hours,
                self_selected=self.self_selected,
                school_based=self.school_based,
                concentrated=self.concentrated,
                source=self.source,
                evidence=[dict(e) for e in self.evidence],
                recorded_at=self.timestamp,
                recorded_by=dict(self.actor),
                event_id=event_id(self.originator_id, self.originator_version),
                reason=self.reason,
            )

    class PriorHoursRevoked(ChainedAggregate.Event):
        record_id: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            record = aggregate.prior()[self.record_id]
            record.revoked = True
            record.revoked_event_id = event_id(self.originator_id, self.originator_version)
            record.revoked_reason = self.reason
    class Corrected(ChainedAggregate.Event):
        """Registration details corrected (`reason` says why): only the fields that changed are
        given (None: unchanged). A corrected hire date starts the first posting."""

        name: str | None
        hired_on: date | None

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            if self.name is not None:
                aggregate.name = self.name
            if self.hired_on is not None:
                aggregate.hired_on = self.hired_on
                first = aggregate.postings[0]
                aggregate.postings[0] = Posting(first.school_id, self.hired_on, first.event_id)

    class Departed(ChainedAggregate.Event):
        """The teacher left the service (retired, left, deceased, other) from `effective_on`: from
        then on they belong to no school."""

        kind: str
        effective_on: date
        school_id: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.departure_record = {
                "kind": self.kind, "effective_on": self.effective_on, "school_id": self.school_id,
                "event_id": event_id(self.originator_id, self.originator_version), "reason": self.reason,
            }

    class EnrolmentWithdrawn(ChainedAggregate.Event):
        """An enrolment withdrawn before its programme started: it leaves the teacher's enrolments
        (the teacher may enrol again)."""

        programme_code: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            withdrawn = aggregate.enrolments.pop(self.programme_code)
            aggregate.withdrawals = [*getattr(aggregate, "withdrawals", []), {
                "programme_code": self.programme_code, "enrolled_event_id": withdrawn.event_id,
                "event_id": event_id(self.originator_id, self.originator_version), "reason": self.reason,
            }]

    class CertificateIssued(ChainedAggregate.Event):
        """An hours certificate (学时证明) issued from the record: for a reporting year or one
        programme, the lines it counted and their total, the names it printed, the org it was issued
        for, and (once the log keeps them) the transparency checkpoint it was issued under
        (`checkpoint_size`, `checkpoint_root`: None until then). `reason` holds its purpose."""

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
        issued_on: date
        checkpoint_size: int | None
        checkpoint_root: str | None

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.certificates()[self.certificate_no] = Certificate(
                certificate_no=self.certificate_no,
                year=self.year,
                programme_code=self.programme_code,
                lines=[dict(line) for line in self.lines],
                hours=self.hours,
                teacher_name=self.teacher_name,
                school_id=self.school_id,
                school_name=self.school_name,
                issuer_org_id=self.issuer_org_id,
                issuer_org_name=self.issuer_org_name,
                purpose=self.reason,
                issued_at=self.timestamp,
                issued_on=self.issued_on,
                issued_by=dict(self.actor),
                event_id=event_id(self.originator_id, self.originator_version),
                checkpoint_size=self.checkpoint_size,
                checkpoint_root=self.checkpoint_root,
            )

    # --- creation --------------------------------------------------------------------------
    @classmethod
    def register(
        cls,
        teacher_no: str,
        name: str,
        school_id: str,
        hired_on: date | None,
        actor: Actor,
        now: datetime,
    ) -> Teacher:
        ensure_teacher_no(teacher_no)
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise Invalid("invalid_name", f"name must be 1–{MAX_NAME} characters")
        if hired_on is not None and not date(1950, 1, 1) <= hired_on <= now.date() + timedelta(days=366):
            raise Invalid("invalid_hired_on", "hired_on lies between 1950 and a year from now")
        return cls._create(
            cls.Registered,
            id=teacher_uuid(teacher_no),
            timestamp=now,
            teacher_no=teacher_no,
            name=name,
            school_id=school_id,
            hired_on=hired_on,
            actor=actor.as_record(),
            reason="",
        )

    # --- queries ---------------------------------------------------------------------------
    @property
    def school_id(self) -> str:
        return self.postings[-1].school_id

    def school_on(self, day: date) -> str:
        """The school the teacher belonged to on `day` (the first school before any record)."""
        school = self.postings[0].school_id
        for posting in self.postings:
            if posting.from_date is None or posting.from_date <= day:
                school = posting.school_id
        return school

    def enrolment(self, code: str) -> Enrolment:
        try:
            return self.enrolments[code]
        except KeyError:
            raise Conflict("not_enrolled", f"teacher {self.teacher_no} is not enrolled in {code}") from None

    def credit(self, credit_id: str) -> Credit:
        try:
            return self.credits[credit_id]
        except KeyError:
            raise NotFound("credit_not_found", f"teacher {self.teacher_no} has no credit {credit_id}") from None

    def dispute(self, dispute_id: str) -> Dispute:
        try:
            return self.disputes[dispute_id]
        except KeyError:
            raise NotFound("dispute_not_found", f"no dispute {dispute_id}") from None

    def prior(self) -> dict[str, PriorHours]:
        """The teacher's earlier hours by record id (kept beside the registration's records, so that
        teachers registered before earlier hours existed need nothing of their registration)."""
        records: dict[str, PriorHours] = self.__dict__.setdefault("prior_records", {})
        return records

    def prior_record(self, record_id: str) -> PriorHours:
        try:
            return self.prior()[record_id]
        except KeyError:
            raise NotFound("prior_hours_not_found",
                           f"teacher {self.teacher_no} has no earlier hours {record_id}") from None

    def certificates(self) -> dict[str, Certificate]:
        """The certificates issued from the record, by number (kept as earlier hours are, `prior`)."""
        issued: dict[str, Certificate] = self.__dict__.setdefault("issued_certificates", {})
        return issued

    def _next_event_id(self) -> str:
        return event_id(self.id, self.version + 1)

    # --- commands --------------------------------------------------------------------------
    def transfer(self, to_school_id: str, effective_on: date, actor: Actor, now: datetime, today: date) -> None:
        ensure_transfer_in_order(self.postings, to_school_id, effective_on, today)
        self.trigger_event(
            self.Transferred,
            timestamp=now,
            from_school_id=self.school_id,
            to_school_id=to_school_id,
            effective_on=effective_on,
            actor=actor.as_record(),
            reason="",
        )

    def enrol(
        self,
        programme: dict[str, Any],
        policy: Policy,
        actor: Actor,
        now: datetime,
        substitutes_for: str | None = None,
        reason: str = "",
        occurred: Occurrence | None = None,
    ) -> str:
        occurred = occurred or Occurrence(policy.local_date(now))
        ensure_not_already_enrolled(self.enrolments, programme["code"], self.teacher_no)
        ensure_school_based_for_own_staff(programme, self.school_id)
        ensure_evaluations_done_before_new_term(self.enrolments.values(), programme, policy)
        eid = self._next_event_id()
        self.trigger_event(
            self.Enrolled,
            timestamp=now,
            programme=programme,
            substitutes_for=substitutes_for,
            actor=actor.as_record(),
            reason=reason,
            **occurred.fields(),
        )
        return eid

    def request_absence(
        self,
        code: str,
        kind: AbsenceKind,
        reason: str,
        substitute_teacher_no: str | None,
        actor: Actor,
        now: datetime,
        today: date,
        occurred: Occurrence | None = None,
    ) -> None:
        occurred = occurred or Occurrence(today)
        enrolment = self.enrolment(code)
        reason = ensure_reason(reason, "an absence")
        ensure_absence_can_be_filed(enrolment, kind, substitute_teacher_no, occurred.on)
        if substitute_teacher_no == self.teacher_no:
            raise Invalid("invalid_substitute", "a teacher cannot substitute for themself")
        self.trigger_event(
            self.AbsenceRequested,
            timestamp=now,
            programme_code=code,
            kind=kind.value,
            substitute_teacher_no=substitute_teacher_no,
            actor=actor.as_record(),
            reason=reason,
            **occurred.fields(),
        )

    def decide_absence(
        self, code: str, by: Approver, decision: Decision, reason: str, actor: Actor, now: datetime,
        occurred: Occurrence | None = None,
    ) -> Absence:
        """Record one of the two approvals; returns the absence so the caller sees if it now counts."""
        occurred = occurred or Occurrence.recorded(now)
        enrolment = self.enrolment(code)
        ensure_absence_decidable(enrolment, by)
        self.trigger_event(
            self.AbsenceDecided,
            timestamp=now,
            programme_code=code,
            by=by.value,
            decision=decision.value,
            actor=actor.as_record(),
            reason=reason.strip(),
            **occurred.fields(),
        )
        assert enrolment.absence is not None
        return enrolment.absence

    def record_attendance(
        self, code: str, session_no: int, present: bool, actor: Actor, now: datetime,
        occurred: Occurrence | None = None,
    ) -> bool:
        """Record presence at one session; a changed mark is a correction, an unchanged one records nothing."""
        occurred = occurred or Occurrence.recorded(now)
        enrolment = self.enrolment(code)
        ensure_session_of_enrolment(enrolment, session_no)
        ensure_not_excused(enrolment, self.teacher_no, present)
        previous = enrolment.attendance.get(session_no)
        if previous is not None and previous.present == present:
            return False
        self.trigger_event(
            self.AttendanceRecorded,
            timestamp=now,
            programme_code=code,
            session_no=session_no,
            present=present,
            corrects=previous.event_id if previous else None,
            actor=actor.as_record(),
            reason="correction" if previous else "",
            **occurred.fields(),
        )
        return True

    def assess(
        self,
        code: str,
        attitude: int,
        assignments: int,
        result: AssessmentResult,
        policy: Policy,
        actor: Actor,
        now: datetime,
        occurred: Occurrence | None = None,
        session_nos: list[int] | None = None,
    ) -> None:
        """`session_nos`: the programme's sessions now, the attendance rate's denominator."""
        occurred = occurred or Occurrence(policy.local_date(now))
        enrolment = self.enrolment(code)
        ensure_score(attitude, "attitude")
        ensure_score(assignments, "assignments")
        ensure_assessable(enrolment, self.teacher_no)
        on = occurred.on
        ensure_programme_ended(enrolment, on, "assessment")
        due = policy.assessment_due(enrolment.ends_on)
        self.trigger_event(
            self.Assessed,
            timestamp=now,
            programme_code=code,
            attitude=attitude,
            assignments=assignments,
            attendance_rate=enrolment.attendance_rate(session_nos),
            result=result.value,
            due_on=due,
            late=on > due,
            policy_version=policy.version,
            actor=actor.as_record(),
            reason="",
            **occurred.fields(),
        )

    def evaluate(
        self,
        code: str,
        form: int,
        instructors: int,
        management: int,
        comment: str | None,
        policy: Policy,
        actor: Actor,
        now: datetime,
        occurred: Occurrence | None = None,
    ) -> None:
        occurred = occurred or Occurrence(policy.local_date(now))
        enrolment = self.enrolment(code)
        for value, name in ((form, "form"), (instructors, "instructors"), (management, "management")):
            ensure_score(value, name)
        comment = ensure_comment(comment)
        ensure_evaluable(enrolment, self.teacher_no)
        on = occurred.on
        ensure_programme_ended(enrolment, on, "evaluation")
        due = policy.evaluation_due(enrolment.ends_on)
        self.trigger_event(
            self.Evaluated,
            timestamp=now,
            programme_code=code,
            form=form,
            instructors=instructors,
            management=management,
            comment=comment,
            due_on=due,
            late=on > due,
            policy_version=policy.version,
            actor=actor.as_record(),
            reason="",
            **occurred.fields(),
        )

    def award_credit(
        self,
        credit_id: str,
        code: str,
        hours: Decimal,
        policy: Policy,
        actor: Actor,
        now: datetime,
        dispute_id: str | None = None,
        reason: str = "",
        occurred: Occurrence | None = None,
    ) -> str:
        """Recognise hours for a programme; returns the CreditAwarded event id."""
        occurred = occurred or Occurrence(policy.local_date(now))
        enrolment = self.enrolment(code)
        hours = ensure_valid_hours(hours)
        ensure_credit_within_programme_hours(hours, enrolment)
        ensure_credit_once_per_programme(self.credits.values(), code)
        if dispute_id is None:
            evidence: dict[str, Any] = {"assessment_event_id": ensure_passing_assessment(enrolment, policy)}
        else:
            evidence = {"dispute_id": dispute_id}
        if credit_id in self.credits:
            raise Conflict("credit_exists", f"credit {credit_id} already exists")
        p = enrolment.programme
        result = enrolment.assessment["result"] if enrolment.assessment else AssessmentResult.PASS.value
        eid = self._next_event_id()
        self.trigger_event(
            self.CreditAwarded,
            timestamp=now,
            credit_id=credit_id,
            programme={
                k: p[k]
                for k in ("code", "title", "level", "form", "selection", "school_based_content", "hours", "ends_on")
            },
            hours=hours,
            credits=policy.credit_value(hours, p["level"], p["form"], p["selection"], result),
            year=policy.year_of(enrolment.ends_on),
            awarded_on=occurred.on,
            school_id=self.school_on(enrolment.ends_on),
            policy_version=policy.version,
            evidence=evidence,
            actor=actor.as_record(),
            reason=reason,
            **occurred.fields(),
        )
        return eid

    def revoke_credit(
        self,
        credit_id: str,
        reason: str,
        actor: Actor,
        now: datetime,
        dispute_id: str | None = None,
        occurred: Occurrence | None = None,
    ) -> None:
        occurred = occurred or Occurrence.recorded(now)
        credit = self.credit(credit_id)
        reason = ensure_reason(reason, "a revocation")
        if credit.revoked:
            raise Conflict("credit_already_revoked", f"credit {credit_id} was already revoked")
        self.trigger_event(
            self.CreditRevoked,
            timestamp=now,
            credit_id=credit_id,
            dispute_id=dispute_id,
            actor=actor.as_record(),
            reason=reason,
            **occurred.fields(),
        )

    def open_dispute(
        self,
        dispute_id: str,
        code: str,
        claim: str,
        evidence: Sequence[dict[str, str]],
        actor: Actor,
        now: datetime,
        occurred: Occurrence | None = None,
    ) -> None:
        occurred = occurred or Occurrence.recorded(now)
        self.enrolment(code)
        if dispute_id in self.disputes:
            raise Conflict("dispute_exists", f"dispute {dispute_id} already exists")
        claim = ensure_claim(claim)
        checked = ensure_evidence(evidence)
        ensure_no_open_dispute(list(self.disputes.values()), code)
        self.trigger_event(
            self.DisputeOpened,
            timestamp=now,
            dispute_id=dispute_id,
            programme_code=code,
            claim=claim,
            evidence=checked,
            actor=actor.as_record(),
            reason=claim,
            **occurred.fields(),
        )

    def resolve_dispute(
        self,
        dispute_id: str,
        decision: DisputeDecision,
        reason: str,
        award_hours: Decimal | None,
        new_credit_id: str,
        policy: Policy,
        actor: Actor,
        now: datetime,
        occurred: Occurrence | None = None,
    ) -> str | None:
        """Resolve once. Upheld with hours: the programme's valid credit (if any) is revoked and
        the awarded hours recorded as a new credit, both pointing at the dispute. Returns the
        new credit's id, if any."""
        occurred = occurred or Occurrence(policy.local_date(now))
        dispute = self.dispute(dispute_id)
        reason = ensure_reason(reason, "a resolution")
        ensure_resolvable(dispute, decision, award_hours)
        if award_hours is not None:
            award_hours = ensure_valid_hours(award_hours)
            ensure_credit_within_programme_hours(award_hours, self.enrolment(dispute.programme_code))
            if new_credit_id in self.credits:
                raise Conflict("credit_exists", f"credit {new_credit_id} already exists")
        self.trigger_event(
            self.DisputeResolved,
            timestamp=now,
            dispute_id=dispute_id,
            decision=decision.value,
            award_hours=award_hours,
            actor=actor.as_record(),
            reason=reason,
            **occurred.fields(),
        )
        if award_hours is None:
            return None
        for credit in list(self.credits.values()):
            if credit.programme_code == dispute.programme_code and not credit.revoked:
                why = f"replaced on dispute {dispute_id}: {reason}"
                self.revoke_credit(credit.credit_id, why, actor, now, dispute_id, occurred=occurred)
        self.award_credit(
            new_credit_id, dispute.programme_code, award_hours, policy, actor, now,
            dispute_id=dispute_id, reason=reason, occurred=occurred,
        )
        return new_credit_id

    def record_prior_hours(
        self,
        record_id: str,
        year: int,
        hours: Decimal,
        breakdown: tuple[Decimal | None, Decimal | None, Decimal | None],
        source: str,
        evidence: Sequence[dict[str, str]],
        reason: str,
        policy: Policy,
        actor: Actor,
        now: datetime,
    ) -> str:
        """Record earlier hours (domain/rules/prior_hours.py); `breakdown` is (self_selected,
        school_based, concentrated). Returns the PriorHoursRecorded event id."""
        year = ensure_prior_year(year, policy.year_of(policy.local_date(now)))
        hours = ensure_valid_hours(hours)
        self_selected, school_based, concentrated = ensure_breakdown(hours, *breakdown)
        source = ensure_source(source)
        checked = ensure_prior_evidence(evidence)
        reason = ensure_reason(reason, "earlier hours")
        amounts = (hours, self_selected, school_based, concentrated)
        ensure_not_recorded_before(self.prior().values(), year, source, amounts)
        if record_id in self.prior():
            raise Conflict("prior_hours_exists", f"earlier hours {record_id} already exist")
        eid = self._next_event_id()
        self.trigger_event(
            self.PriorHoursRecorded,
            timestamp=now,
            record_id=record_id,
            year=year,
            hours=hours,
            self_selected=self_selected,
            school_based=school_based,
            concentrated=concentrated,
            source=source,
            evidence=checked,
            actor=actor.as_record(),
            reason=reason,
        )
        return eid

    def revoke_prior_hours(self, record_id: str, reason: str, actor: Actor, now: datetime) -> None:
        record = self.prior_record(record_id)
        reason = ensure_reason(reason, "a revocation")
        ensure_prior_revocable(record)
        self.trigger_event(
            self.PriorHoursRevoked,
            timestamp=now,
            record_id=record_id,
            actor=actor.as_record(),
            reason=reason,
        )

    def issue_certificate(
        self,
        certificate_no: str,
        year: int | None,
        programme_code: str | None,
        names: dict[str, str],
        purpose: str,
        policy: Policy,
        actor: Actor,
        now: datetime,
        checkpoint: tuple[int, str] | None = None,
    ) -> Certificate:
        """Issue an hours certificate for `year` or `programme_code` (domain/rules/certificates.py).
        `names`: `school_name`, `issuer_org_id` and `issuer_org_name`, as printed. Returns it."""
        today = policy.local_date(now)
        ensure_subject(year, programme_code, policy.year_of(today))
        purpose = ensure_purpose(purpose)
        if certificate_no in self.certificates():
            raise Conflict("certificate_exists", f"certificate {certificate_no} already exists")
        pending = {e.code for e in self.enrolments.values() if e.assessment is not None and e.evaluation is None}
        lines = certified_lines(self.credits.values(), self.prior().values(), pending, year, programme_code)
        self.trigger_event(
            self.CertificateIssued,
            timestamp=now,
            certificate_no=certificate_no,
            year=year,
            programme_code=programme_code,
            lines=lines,
            hours=sum((line["hours"] for line in lines), Decimal(0)),
            teacher_name=self.name,
            school_id=self.school_id,
            school_name=names["school_name"],
            issuer_org_id=names["issuer_org_id"],
            issuer_org_name=names["issuer_org_name"],
            issued_on=today,
            checkpoint_size=None if checkpoint is None else checkpoint[0],
            checkpoint_root=None if checkpoint is None else checkpoint[1],
            actor=actor.as_record(),
            reason=purpose,
        )
        return self.certificates()[certificate_no]

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def departure(self) -> dict[str, Any] | None:
        """The departure, once recorded: kind, effective_on, school_id (left), event_id, reason."""
        found: dict[str, Any] | None = getattr(self, "departure_record", None)
        return found

    def ensure_not_departed(self) -> None:
        ensure_not_departed(self.departure, self.teacher_no)

    def correct(self, name: str | None, hired_on: date | None, reason: str, actor: Actor, now: datetime) -> None:
        """Correct registration details: at least one field must change."""
        reason = ensure_reason(reason, "a correction")
        if name is not None:
            name = ensure_name(name)
            if name == self.name:
                name = None
        if hired_on is not None:
            ensure_hired_on(hired_on, now)
            if hired_on == self.hired_on:
                hired_on = None
            else:
                departed_on = self.departure["effective_on"] if self.departure else None
                ensure_hired_on_in_order(self.postings, hired_on, departed_on)
        if name is None and hired_on is None:
            raise Invalid("correction_unchanged", "a correction must change the name or the hire date")
        self.trigger_event(self.Corrected, timestamp=now, name=name, hired_on=hired_on, actor=actor.as_record(),
                           reason=reason)

    def depart(self, kind: DepartureKind, effective_on: date, reason: str, actor: Actor, now: datetime,
               today: date) -> None:
        """Record the teacher's departure, once: from `effective_on` they belong to no school."""
        if self.departure is not None:
            raise Conflict("already_departed", f"teacher {self.teacher_no} departed on "
                           f"{self.departure['effective_on']}")
        reason = ensure_reason(reason, "a departure")
        ensure_departure_in_order(self.postings, effective_on, today)
        self.trigger_event(self.Departed, timestamp=now, kind=kind.value, effective_on=effective_on,
                           school_id=self.school_id, actor=actor.as_record(), reason=reason)

    def withdraw(self, code: str, reason: str, actor: Actor, now: datetime, today: date) -> None:
        """Withdraw an enrolment before the programme's first day."""
        enrolment = self.enrolment(code)
        reason = ensure_reason(reason, "a withdrawal")
        ensure_programme_not_started(code, enrolment.starts_on, today)
        self.trigger_event(self.EnrolmentWithdrawn, timestamp=now, programme_code=code, actor=actor.as_record(),
                           reason=reason)
