"""The training programme (培训项目): its definition, approval and seats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.actor import Actor
from domain.chained import ChainedAggregate
from domain.errors import Conflict, Invalid, NotFound
from domain.ids import programme_uuid
from domain.rules.attendance import ensure_session_not_held
from domain.rules.hours import ensure_valid_hours
from domain.rules.programme_definition import (
    SessionPlan,
    ensure_capacity,
    ensure_programme_dates,
    ensure_school_based_content,
    ensure_session_hours_add_up,
    ensure_sessions_within_programme,
    needs_approval,
)
from domain.vocabulary import Decision, Form, Level, SchoolBasedContent, Selection

MAX_CODE = 64
MAX_TITLE = 200


DEFINITION = ("title", "level", "form", "selection", "school_based_content", "hours", "provider_id",
              "owner_org_id", "starts_on", "ends_on", "capacity")  # and `sessions`: what `Resubmitted` revises


def _take_definition(aggregate: Any, event: Any) -> None:
    """A definition (`Defined`, `Resubmitted`) becomes the programme's, awaiting its decision."""
    for name in DEFINITION:
        setattr(aggregate, name, getattr(event, name))
    aggregate.sessions = [dict(s) for s in event.sessions]
    aggregate.decision = None


class Programme(ChainedAggregate):
    if TYPE_CHECKING:
        code: str
        title: str
        level: str
        form: str
        selection: str
        school_based_content: str | None
        hours: Decimal
        provider_id: str
        owner_org_id: str
        starts_on: date
        ends_on: date
        sessions: list[dict[str, Any]]
        capacity: int | None
        decision: str | None
        seats: set[str]

    class Defined(ChainedAggregate.Created):
        code: str
        title: str
        level: str
        form: str
        selection: str
        school_based_content: str | None
        hours: Decimal
        provider_id: str
        owner_org_id: str
        starts_on: date
        ends_on: date
        sessions: list[dict[str, Any]]
        capacity: int | None

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.code = self.code
            _take_definition(aggregate, self)
            aggregate.seats = set()

    class Decided(ChainedAggregate.Event):
        decision: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.decision = self.decision

    class SeatTaken(ChainedAggregate.Event):
        teacher_no: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.seats.add(self.teacher_no)

    class SeatPassed(ChainedAggregate.Event):
        """An approved substitution hands the absentee's seat to the substitute."""

        from_teacher_no: str
        to_teacher_no: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.seats.discard(self.from_teacher_no)
            aggregate.seats.add(self.to_teacher_no)

    class Resubmitted(ChainedAggregate.Event):
        """A rejected programme revised under the same code; it awaits approval again."""

        title: str
        level: str
        form: str
        selection: str
        school_based_content: str | None
        hours: Decimal
        provider_id: str
        owner_org_id: str
        starts_on: date
        ends_on: date
        sessions: list[dict[str, Any]]
        capacity: int | None

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            _take_definition(aggregate, self)

    class SessionRescheduled(ChainedAggregate.Event):
        """A session not yet held moved to another day of the programme (`reason` says why)."""

        session_no: int
        from_on: date
        on: date

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            for session in aggregate.sessions:
                if session["no"] == self.session_no:
                    session["on"] = self.on

    class SeatFreed(ChainedAggregate.Event):
        """A withdrawn enrolment's seat, free again."""

        teacher_no: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.seats.discard(self.teacher_no)

    class SessionCancelled(ChainedAggregate.Event):
        """A session not yet held, cancelled (`reason` says why): it leaves the programme, whose hours
        drop by the session's (`hours`), so they stay the sum of the remaining sessions'."""

        session_no: int
        hours: Decimal

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            session = next(s for s in aggregate.sessions if s["no"] == self.session_no)
            aggregate.sessions = [s for s in aggregate.sessions if s["no"] != self.session_no]
            aggregate.hours = aggregate.hours - self.hours
            aggregate.cancelled_sessions = {**getattr(aggregate, "cancelled_sessions", {}), self.session_no: session}

    @classmethod
    def define(
        cls,
        *,
        code: str,
        title: str,
        level: Level,
        form: Form,
        selection: Selection,
        school_based_content: SchoolBasedContent | None,
        hours: Decimal,
        provider_id: str,
        owner_org_id: str,
        starts_on: date,
        ends_on: date,
        sessions: Sequence[SessionPlan],
        capacity: int | None,
        actor: Actor,
        now: datetime,
    ) -> Programme:
        if not code or len(code) > MAX_CODE or code != code.strip() or "/" in code:
            raise Invalid("invalid_code", f"programme code must be 1–{MAX_CODE} characters, no '/'")
        fields = checked_definition(title=title, level=level, form=form, selection=selection,
                                    school_based_content=school_based_content, hours=hours,
                                    provider_id=provider_id, owner_org_id=owner_org_id, starts_on=starts_on,
                                    ends_on=ends_on, sessions=sessions, capacity=capacity)
        return cls._create(cls.Defined, id=programme_uuid(code), timestamp=now, code=code, **fields,
                           actor=actor.as_record(), reason="")

    # --- queries -------------------------------------------------------------------------
    @property
    def needs_approval(self) -> bool:
        return needs_approval(self.selection, self.form)

    @property
    def is_approved(self) -> bool:
        return self.decision == Decision.APPROVED

    def session(self, no: int) -> dict[str, Any]:
        for s in self.sessions:
            if s["no"] == no:
                return s
        if no in getattr(self, "cancelled_sessions", {}):
            raise Conflict("session_cancelled", f"session {no} of programme {self.code} was cancelled")
        raise NotFound("session_not_found", f"programme {self.code} has no session {no}")

    def facts(self) -> dict[str, Any]:
        """What a teacher's enrolment keeps of the programme, so the teacher's history stands alone."""
        return {
            "code": self.code,
            "title": self.title,
            "level": self.level,
            "form": self.form,
            "selection": self.selection,
            "school_based_content": self.school_based_content,
            "hours": self.hours,
            "provider_id": self.provider_id,
            "owner_org_id": self.owner_org_id,
            "starts_on": self.starts_on,
            "ends_on": self.ends_on,
            "session_nos": [s["no"] for s in self.sessions],
        }

    # --- commands ------------------------------------------------------------------------
    def decide(self, decision: Decision, reason: str, actor: Actor, now: datetime) -> None:
        """Approve or reject; recorded once. Rejecting needs a reason."""
        if self.decision is not None:
            raise Conflict("programme_already_decided", f"programme {self.code} was already {self.decision}")
        reason = reason.strip()
        if decision is Decision.REJECTED and not reason:
            raise Invalid("reason_required", "a rejection needs a reason")
        self.trigger_event(self.Decided, timestamp=now, decision=decision.value, actor=actor.as_record(), reason=reason)

    def ensure_open_for_enrolment(self, today: date) -> None:
        """Rule: school-based programmes run only once approved; nobody enrols after the end."""
        if self.decision == Decision.REJECTED:
            raise Conflict("programme_rejected", f"programme {self.code} was rejected")
        if self.needs_approval and not self.is_approved:
            raise Conflict("programme_not_approved", f"school-based programme {self.code} is not approved yet")
        if today > self.ends_on:
            raise Conflict("programme_ended", f"programme {self.code} ended on {self.ends_on}")

    def ensure_seat_free(self, teacher_no: str) -> None:
        """Rule: no more enrolments than capacity (only counted where a capacity is set)."""
        if self.capacity is not None and teacher_no not in self.seats and len(self.seats) >= self.capacity:
            raise Conflict("programme_full", f"programme {self.code} is full ({self.capacity})")

    def take_seat(self, teacher_no: str, actor: Actor, now: datetime) -> None:
        if self.capacity is None:
            return
        self.ensure_seat_free(teacher_no)
        self.trigger_event(self.SeatTaken, timestamp=now, teacher_no=teacher_no, actor=actor.as_record(), reason="")

    def pass_seat(self, from_teacher_no: str, to_teacher_no: str, actor: Actor, now: datetime, reason: str) -> None:
        if self.capacity is None:
            return
        self.trigger_event(
            self.SeatPassed,
            timestamp=now,
            from_teacher_no=from_teacher_no,
            to_teacher_no=to_teacher_no,
            actor=actor.as_record(),
            reason=reason,
        )

    def reschedule_session(self, no: int, on: date, reason: str, actor: Actor, now: datetime, today: date) -> None:
        """Move session `no` to `on`: only before it is held, to a day not past, within the programme."""
        session = self.session(no)
        ensure_session_not_held(session, today)
        reason = reason.strip()
        if not reason:
            raise Invalid("reason_required", "rescheduling a session needs a reason")
        if on == session["on"]:
            raise Invalid("session_unchanged", f"session {no} is already on {on}")
        if on < today:
            raise Invalid("session_in_past", f"session {no} cannot move to {on}, a day already past")
        ensure_sessions_within_programme([SessionPlan(no, on, Decimal(session["hours"]))], self.starts_on, self.ends_on)
        self.trigger_event(self.SessionRescheduled, timestamp=now, session_no=no, from_on=session["on"], on=on,
                           actor=actor.as_record(), reason=reason)

    def free_seat(self, teacher_no: str, reason: str, actor: Actor, now: datetime) -> None:
        """A withdrawn enrolment gives its seat back (where seats are counted)."""
        if teacher_no not in self.seats:
            return
        self.trigger_event(self.SeatFreed, timestamp=now, teacher_no=teacher_no, actor=actor.as_record(),
                           reason=reason)

    def cancel_session(self, no: int, reason: str, actor: Actor, now: datetime, today: date) -> None:
        """Cancel session `no` before it is held; the programme keeps at least one session, and its
        dates (`ends_on` does not move)."""
        session = self.session(no)
        ensure_session_not_held(session, today)
        reason = reason.strip()
        if not reason:
            raise Invalid("reason_required", "cancelling a session needs a reason")
        if len(self.sessions) == 1:
            raise Conflict("last_session", f"session {no} is the last of programme {self.code}: "
                           "a programme keeps at least one session")
        self.trigger_event(self.SessionCancelled, timestamp=now, session_no=no, hours=Decimal(session["hours"]),
                           actor=actor.as_record(), reason=reason)

    def resubmit(self, definition: dict[str, Any], actor: Actor, now: datetime) -> None:
        """A rejected programme, revised under the same code (`definition`: `checked_definition`'s),
        awaiting approval again."""
        if not self.needs_approval:  # only those can have had no trainee: nobody enrols before approval
            raise Conflict("programme_not_resubmittable", f"programme {self.code} did not wait for approval; "
                           "a new programme is defined under a new code")
        if self.decision != Decision.REJECTED:
            raise Conflict("programme_not_rejected", f"only a rejected programme is resubmitted; {self.code} is "
                           f"{self.decision or 'awaiting its decision'}")
        if not needs_approval(definition["selection"], definition["form"]):
            raise Invalid("resubmission_needs_approval", "a resubmitted programme still waits for approval: "
                          "school-based (selection or form)")
        self.trigger_event(self.Resubmitted, timestamp=now, **definition, actor=actor.as_record(), reason="")


def checked_definition(
    *,
    title: str,
    level: Level,
    form: Form,
    selection: Selection,
    school_based_content: SchoolBasedContent | None,
    hours: Decimal,
    provider_id: str,
    owner_org_id: str,
    starts_on: date,
    ends_on: date,
    sessions: Sequence[SessionPlan],
    capacity: int | None,
) -> dict[str, Any]:
    """A programme's definition, every rule checked: the fields of `Defined` and `Resubmitted`."""
    title = title.strip()
    if not title or len(title) > MAX_TITLE:
        raise Invalid("invalid_title", f"title must be 1–{MAX_TITLE} characters")
    hours = ensure_valid_hours(hours)
    plans = [SessionPlan(s.no, s.on, ensure_valid_hours(s.hours, f"session {s.no} hours")) for s in sessions]
    ensure_programme_dates(starts_on, ends_on)
    ensure_sessions_within_programme(plans, starts_on, ends_on)
    ensure_session_hours_add_up(plans, hours)
    ensure_school_based_content(selection, form, school_based_content)
    ensure_capacity(capacity)
    return {
        "title": title, "level": level.value, "form": form.value, "selection": selection.value,
        "school_based_content": school_based_content.value if school_based_content else None,
        "hours": hours, "provider_id": provider_id, "owner_org_id": owner_org_id, "starts_on": starts_on,
        "ends_on": ends_on, "capacity": capacity,
        "sessions": [{"no": s.no, "on": s.on, "hours": s.hours} for s in sorted(plans, key=lambda p: p.no)],
    }
