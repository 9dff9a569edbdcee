"""The programmes, teachers and actors the rule tests act on, driven directly on the aggregates
(no service, no store), and `refused`: a refused command raises the expected DomainError and
records nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.errors import DomainError
from domain.policy import DEFAULT_POLICY, Policy
from domain.programme import Programme
from domain.rules.programme_definition import SessionPlan
from domain.teacher import Teacher
from domain.vocabulary import (
    AbsenceKind,
    Approver,
    AssessmentResult,
    Decision,
    DisputeDecision,
    Form,
    Level,
    Role,
    SchoolBasedContent,
    Selection,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADMIN = Actor("admin", Role.ADMIN)
SCHOOL = Actor("s1-admin", Role.SCHOOL_ADMIN, org_id="S1")
PROVIDER = Actor("p1", Role.PROVIDER, org_id="P1")
SUPERVISOR = Actor("county-sup", Role.SUPERVISOR, org_id="C1")
TRAINEE = Actor("t-A001", Role.TEACHER, teacher_no="A001")

START = date(2024, 3, 4)  # a three-day programme, 8 h a day: 2024-03-04 … 2024-03-06, 24 h
END = date(2024, 3, 6)
SHA = "ab" * 32
EVIDENCE = [{"name": "签到表.pdf", "sha256": SHA}]


def at(day: date, hour: int = 10) -> datetime:
    """An instant (UTC) at `hour` o'clock Shanghai time on `day`."""
    return datetime.combine(day, time(hour), SHANGHAI).astimezone(UTC)


def make_programme(
    code: str = "P-2024-01",
    *,
    starts_on: date = START,
    days: int = 3,
    hours_per_day: int = 8,
    level: Level = Level.COUNTY,
    form: Form = Form.CONCENTRATED,
    selection: Selection = Selection.SELF_SELECTED,
    content: SchoolBasedContent | None = None,
    owner: str = "C1",
    capacity: int | None = None,
) -> Programme:
    return Programme.define(
        code=code,
        title=f"培训项目{code}",
        level=level,
        form=form,
        selection=selection,
        school_based_content=content,
        hours=Decimal(days * hours_per_day),
        provider_id="P1",
        owner_org_id=owner,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=days - 1),
        sessions=[SessionPlan(i + 1, starts_on + timedelta(days=i), Decimal(hours_per_day)) for i in range(days)],
        capacity=capacity,
        actor=ADMIN,
        now=at(starts_on - timedelta(days=30)),
    )


def school_based(code: str = "SB-2024-01", *, owner: str = "S1", starts_on: date = START) -> Programme:
    return make_programme(
        code,
        starts_on=starts_on,
        level=Level.SCHOOL,
        form=Form.SCHOOL_BASED,
        selection=Selection.SCHOOL_BASED,
        content=SchoolBasedContent.DESIGNATED,
        owner=owner,
    )


def make_teacher(teacher_no: str = "A001", school: str = "S1", hired_on: date | None = date(2015, 9, 1)) -> Teacher:
    return Teacher.register(teacher_no, "张伟", school, hired_on, ADMIN, at(date(2024, 1, 2)))


def enrol(teacher: Teacher, programme: Programme) -> str:
    return teacher.enrol(programme.facts(), DEFAULT_POLICY, SCHOOL, at(programme.starts_on - timedelta(days=7)))


def enrolled(programme: Programme | None = None) -> tuple[Teacher, Programme]:
    programme = programme or make_programme()
    teacher = make_teacher()
    enrol(teacher, programme)
    return teacher, programme


def assess(
    teacher: Teacher, programme: Programme, result: AssessmentResult = AssessmentResult.PASS, *, after: int = 1
) -> None:
    teacher.assess(
        programme.code, 4, 4, result, DEFAULT_POLICY, PROVIDER, at(programme.ends_on + timedelta(days=after))
    )


def evaluate(teacher: Teacher, programme: Programme, *, after: int = 2) -> None:
    teacher.evaluate(
        programme.code, 5, 4, 4, "很好", DEFAULT_POLICY, TRAINEE, at(programme.ends_on + timedelta(days=after))
    )


def assessed(result: AssessmentResult = AssessmentResult.PASS) -> tuple[Teacher, Programme]:
    teacher, programme = enrolled()
    assess(teacher, programme, result)
    return teacher, programme


def award(
    teacher: Teacher, programme: Programme, credit_id: str = "C-1", hours: Decimal | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> str:
    return teacher.award_credit(
        credit_id, programme.code, programme.hours if hours is None else hours, policy, SUPERVISOR,
        at(programme.ends_on + timedelta(days=3)),
    )


def credited(hours: Decimal | None = None) -> tuple[Teacher, Programme]:
    teacher, programme = assessed()
    award(teacher, programme, hours=hours)
    return teacher, programme


def request_leave(teacher: Teacher, programme: Programme, *, reason: str = "生病住院") -> None:
    teacher.request_absence(
        programme.code, AbsenceKind.LEAVE, reason, None, TRAINEE, at(programme.starts_on - timedelta(days=2)),
        programme.starts_on - timedelta(days=2),
    )


def approve(teacher: Teacher, programme: Programme, by: Approver) -> Any:
    actor = SCHOOL if by is Approver.SCHOOL else PROVIDER
    now = at(programme.starts_on - timedelta(days=1))
    return teacher.decide_absence(programme.code, by, Decision.APPROVED, "", actor, now)


def on_leave() -> tuple[Teacher, Programme]:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    approve(teacher, programme, Approver.SCHOOL)
    approve(teacher, programme, Approver.PROVIDER)
    return teacher, programme


def open_dispute(teacher: Teacher, programme: Programme, dispute_id: str = "D-1") -> None:
    teacher.open_dispute(
        dispute_id, programme.code, "实际完成24学时,只认定了16学时", EVIDENCE, TRAINEE,
        at(programme.ends_on + timedelta(days=20)),
    )


def resolve(
    teacher: Teacher, programme: Programme, decision: DisputeDecision = DisputeDecision.UPHELD, *,
    award_hours: Decimal | None = None, new_credit_id: str = "C-2", reason: str = "签到表证明全勤",
    dispute_id: str = "D-1",
) -> str | None:
    return teacher.resolve_dispute(
        dispute_id, decision, reason, award_hours, new_credit_id, DEFAULT_POLICY, SUPERVISOR,
        at(programme.ends_on + timedelta(days=30)),
    )


def last_event(aggregate: Aggregate) -> Any:
    return aggregate.pending_events[-1]


@contextmanager
def refused(aggregate: Aggregate, code: str) -> Iterator[DomainError]:
    """The command inside raises a DomainError with `code` and triggers no event on `aggregate`."""
    before = len(aggregate.pending_events)
    with pytest.raises(DomainError) as caught:
        yield caught  # type: ignore[misc]
    assert caught.value.code == code, f"expected {code}, got {caught.value.code}: {caught.value.detail}"
    assert len(aggregate.pending_events) == before, "a refused command triggered events"
