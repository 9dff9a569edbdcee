"""The rules of domain/rules/*.py and the refusals of the Teacher, Programme and OrgUnit aggregates,
driven directly on the aggregates (no service, no store).

Each rule has an allowed case and a refused case; a refused command must record nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.actor import Actor
from domain.canonical import GENESIS, canonical_bytes, chain_digest
from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.ids import event_id
from domain.org import OrgUnit
from domain.policy import DEFAULT_POLICY, Policy
from domain.programme import Programme
from domain.rules.attendance import ensure_session_held
from domain.rules.hours import ensure_valid_hours
from domain.rules.programme_definition import (
    SessionPlan,
    ensure_provider_kind,
    ensure_school_based_level,
    needs_approval,
)
from domain.teacher import Teacher
from domain.vocabulary import (
    AbsenceKind,
    Approver,
    AssessmentResult,
    Decision,
    DisputeDecision,
    Form,
    Level,
    OrgKind,
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


# ================================================================================================
# hours (rules/hours.py)
# ================================================================================================


@pytest.mark.parametrize(("given", "kept"), [("7.5", Decimal("7.5")), ("8.0", Decimal(8)), (24, Decimal(24)),
                                              (Decimal("0.1"), Decimal("0.1")), ("2000", Decimal(2000))])
def test_positive_hours_with_at_most_one_decimal_are_accepted(given: Any, kept: Decimal) -> None:
    assert ensure_valid_hours(given) == kept


@pytest.mark.parametrize("given", ["0", "-1", "2000.1", "7.25", "abc", "NaN", "Infinity", "", True])
def test_zero_negative_too_many_or_too_precise_hours_are_invalid(given: Any) -> None:
    with pytest.raises(DomainError) as caught:
        ensure_valid_hours(given)
    assert caught.value.code == "invalid_hours"
    assert isinstance(caught.value, Invalid)


# ================================================================================================
# programme definition (programme.py, rules/programme_definition.py)
# ================================================================================================


def test_a_well_formed_programme_is_defined_with_its_sessions_in_order() -> None:
    programme = Programme.define(
        code="P-1", title="  师德专题  ", level=Level.CITY, form=Form.CONCENTRATED, selection=Selection.MANDATED,
        school_based_content=None, hours=Decimal("12.5"), provider_id="P1", owner_org_id="C1",
        starts_on=START, ends_on=END,
        sessions=[SessionPlan(2, END, Decimal("4.5")), SessionPlan(1, START, Decimal(8))],
        capacity=30, actor=ADMIN, now=at(date(2024, 2, 1)),
    )
    assert programme.title == "师德专题"
    assert programme.hours == Decimal("12.5")
    assert [s["no"] for s in programme.sessions] == [1, 2]
    assert programme.facts()["session_nos"] == [1, 2]
    assert programme.decision is None
    assert last_event(programme).actor == ADMIN.as_record()


def define_with(**changes: Any) -> Programme:
    arguments: dict[str, Any] = {
        "code": "P-1", "title": "培训", "level": Level.COUNTY, "form": Form.CONCENTRATED,
        "selection": Selection.SELF_SELECTED, "school_based_content": None, "hours": Decimal(16),
        "provider_id": "P1", "owner_org_id": "C1", "starts_on": START, "ends_on": END,
        "sessions": [SessionPlan(1, START, Decimal(8)), SessionPlan(2, END, Decimal(8))],
        "capacity": None, "actor": ADMIN, "now": at(date(2024, 2, 1)),
    }
    arguments.update(changes)
    return Programme.define(**arguments)


def refused_definition(expected: str, **changes: Any) -> None:
    with pytest.raises(DomainError) as caught:
        define_with(**changes)
    assert caught.value.code == expected, caught.value.detail


@pytest.mark.parametrize("bad", ["", " P-1", "P/1", "P" * 65])
def test_a_programme_code_must_be_short_trimmed_and_slash_free(bad: str) -> None:
    refused_definition("invalid_code", code=bad)


def test_a_programme_code_of_64_characters_is_accepted() -> None:
    assert define_with(code="P" * 64).code == "P" * 64


@pytest.mark.parametrize("bad", ["", "   ", "题" * 201])
def test_a_programme_title_must_be_1_to_200_characters(bad: str) -> None:
    refused_definition("invalid_title", title=bad)


def test_programme_hours_must_be_valid() -> None:
    refused_definition("invalid_hours", hours=Decimal(0))


def test_session_hours_must_be_valid() -> None:
    refused_definition(
        "invalid_hours", sessions=[SessionPlan(1, START, Decimal("8.25")), SessionPlan(2, END, Decimal("7.75"))]
    )


def test_a_programme_may_start_and_end_on_the_same_day() -> None:
    programme = define_with(ends_on=START, hours=Decimal(8), sessions=[SessionPlan(1, START, Decimal(8))])
    assert programme.starts_on == programme.ends_on


def test_a_programme_ending_before_it_starts_has_invalid_dates() -> None:
    refused_definition("invalid_dates", starts_on=END, ends_on=START)


def test_a_programme_without_sessions_is_refused() -> None:
    refused_definition("sessions_required", sessions=[])


def test_session_numbers_must_be_unique() -> None:
    refused_definition(
        "duplicate_session", sessions=[SessionPlan(1, START, Decimal(8)), SessionPlan(1, END, Decimal(8))]
    )


def test_session_numbers_start_at_one() -> None:
    refused_definition("invalid_session", sessions=[SessionPlan(0, START, Decimal(8)), SessionPlan(1, END, Decimal(8))])


def test_sessions_on_the_first_and_last_day_are_within_the_programme() -> None:
    assert [s["on"] for s in define_with().sessions] == [START, END]


@pytest.mark.parametrize("day", [START - timedelta(days=1), END + timedelta(days=1)])
def test_a_session_outside_the_programme_dates_is_refused(day: date) -> None:
    refused_definition(
        "session_outside_programme", sessions=[SessionPlan(1, START, Decimal(8)), SessionPlan(2, day, Decimal(8))]
    )


@pytest.mark.parametrize("hours", [Decimal(15), Decimal(17), Decimal("16.5")])
def test_session_hours_must_add_up_to_the_programme_hours(hours: Decimal) -> None:
    refused_definition("session_hours_mismatch", hours=hours)


@pytest.mark.parametrize(
    ("selection", "form"),
    [(Selection.SCHOOL_BASED, Form.WORKSHOP), (Selection.MANDATED, Form.SCHOOL_BASED)],
)
def test_a_school_based_programme_must_name_its_content(selection: Selection, form: Form) -> None:
    refused_definition("school_based_content_required", selection=selection, form=form)


@pytest.mark.parametrize("content", [SchoolBasedContent.DESIGNATED, SchoolBasedContent.ELECTIVE])
def test_a_school_based_programme_with_content_is_defined(content: SchoolBasedContent) -> None:
    programme = define_with(
        level=Level.SCHOOL, form=Form.SCHOOL_BASED, selection=Selection.SCHOOL_BASED,
        school_based_content=content, owner_org_id="S1",
    )
    assert programme.school_based_content == content.value


def test_other_programmes_may_not_name_school_based_content() -> None:
    refused_definition("school_based_content_not_allowed", school_based_content=SchoolBasedContent.ELECTIVE)


@pytest.mark.parametrize("capacity", [0, -3])
def test_a_capacity_must_be_at_least_one(capacity: int) -> None:
    refused_definition("invalid_capacity", capacity=capacity)


@pytest.mark.parametrize("capacity", [None, 1])
def test_no_capacity_or_a_positive_one_is_accepted(capacity: int | None) -> None:
    assert define_with(capacity=capacity).capacity == capacity


def test_a_school_based_programme_is_a_school_level_programme_of_a_school() -> None:
    ensure_school_based_level(Selection.SCHOOL_BASED, Level.SCHOOL, OrgKind.SCHOOL)
    ensure_school_based_level(Selection.SELF_SELECTED, Level.COUNTY, OrgKind.COUNTY)


@pytest.mark.parametrize(("level", "owner"), [(Level.COUNTY, OrgKind.SCHOOL), (Level.SCHOOL, OrgKind.COUNTY)])
def test_a_school_based_programme_at_another_level_or_owner_is_refused(level: Level, owner: OrgKind) -> None:
    with pytest.raises(DomainError) as caught:
        ensure_school_based_level(Selection.SCHOOL_BASED, level, owner)
    assert caught.value.code == "school_based_owner"


@pytest.mark.parametrize("kind", [OrgKind.PROVIDER, OrgKind.SCHOOL])
def test_a_provider_or_a_school_may_run_a_programme(kind: OrgKind) -> None:
    ensure_provider_kind(kind)


@pytest.mark.parametrize("kind", [OrgKind.COUNTY, OrgKind.TOWN, OrgKind.CITY, OrgKind.PROVINCE])
def test_an_education_bureau_cannot_be_the_provider(kind: OrgKind) -> None:
    with pytest.raises(DomainError) as caught:
        ensure_provider_kind(kind)
    assert caught.value.code == "invalid_provider"


def test_school_based_selection_or_form_needs_approval_and_others_do_not() -> None:
    assert needs_approval("school_based", "workshop")
    assert needs_approval("mandated", "school_based")
    assert not needs_approval("self_selected", "concentrated")


# ================================================================================================
# programme approval, enrolment window and seats (programme.py)
# ================================================================================================


def test_a_school_based_programme_is_approved_once() -> None:
    programme = school_based()
    programme.decide(Decision.APPROVED, "", SUPERVISOR, at(date(2024, 2, 20)))
    assert programme.is_approved
    assert last_event(programme).actor == SUPERVISOR.as_record()


def test_a_programme_cannot_be_decided_twice() -> None:
    programme = school_based()
    programme.decide(Decision.APPROVED, "", SUPERVISOR, at(date(2024, 2, 20)))
    with refused(programme, "programme_already_decided"):
        programme.decide(Decision.REJECTED, "重复", SUPERVISOR, at(date(2024, 2, 21)))


def test_a_rejection_with_a_reason_is_recorded() -> None:
    programme = school_based()
    programme.decide(Decision.REJECTED, " 内容不符合要求 ", SUPERVISOR, at(date(2024, 2, 20)))
    assert programme.decision == "rejected"
    assert last_event(programme).reason == "内容不符合要求"


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_rejection_without_a_reason_is_refused(reason: str) -> None:
    programme = school_based()
    with refused(programme, "reason_required"):
        programme.decide(Decision.REJECTED, reason, SUPERVISOR, at(date(2024, 2, 20)))


def test_a_self_selected_programme_is_open_without_approval() -> None:
    make_programme().ensure_open_for_enrolment(START)


def test_an_approved_school_based_programme_is_open_for_enrolment() -> None:
    programme = school_based()
    programme.decide(Decision.APPROVED, "", SUPERVISOR, at(date(2024, 2, 20)))
    programme.ensure_open_for_enrolment(START)


def test_a_school_based_programme_is_closed_until_approved() -> None:
    programme = school_based()
    with refused(programme, "programme_not_approved"):
        programme.ensure_open_for_enrolment(START)


def test_a_rejected_programme_is_closed_for_enrolment() -> None:
    programme = school_based()
    programme.decide(Decision.REJECTED, "不符合要求", SUPERVISOR, at(date(2024, 2, 20)))
    with refused(programme, "programme_rejected"):
        programme.ensure_open_for_enrolment(START)


def test_a_programme_is_open_for_enrolment_on_its_last_day() -> None:
    make_programme().ensure_open_for_enrolment(END)


def test_a_programme_is_closed_for_enrolment_after_its_last_day() -> None:
    programme = make_programme()
    with refused(programme, "programme_ended"):
        programme.ensure_open_for_enrolment(END + timedelta(days=1))


def test_a_programme_without_capacity_takes_no_seats() -> None:
    programme = make_programme()
    programme.take_seat("A001", SCHOOL, at(START))
    assert len(programme.pending_events) == 1
    assert programme.seats == set()


def test_seats_are_taken_up_to_capacity() -> None:
    programme = make_programme(capacity=2)
    programme.take_seat("A001", SCHOOL, at(START))
    programme.take_seat("A002", SCHOOL, at(START))
    assert programme.seats == {"A001", "A002"}


def test_a_full_programme_refuses_another_seat() -> None:
    programme = make_programme(capacity=1)
    programme.take_seat("A001", SCHOOL, at(START))
    with refused(programme, "programme_full"):
        programme.take_seat("A002", SCHOOL, at(START))


def test_a_substitution_passes_the_seat_without_freeing_one() -> None:
    programme = make_programme(capacity=1)
    programme.take_seat("A001", SCHOOL, at(START))
    programme.pass_seat("A001", "A002", PROVIDER, at(START), "换人")
    assert programme.seats == {"A002"}
    with refused(programme, "programme_full"):
        programme.take_seat("A003", SCHOOL, at(START))


def test_a_programme_finds_its_session_by_number() -> None:
    assert make_programme().session(2)["on"] == START + timedelta(days=1)


def test_a_programme_has_no_session_beyond_its_last() -> None:
    programme = make_programme()
    with refused(programme, "session_not_found") as caught:
        programme.session(4)
    assert isinstance(caught.value, NotFound)


# ================================================================================================
# teacher registration and transfers (teacher.py, rules/transfers.py)
# ================================================================================================


def test_a_teacher_is_registered_at_a_school() -> None:
    teacher = Teacher.register("A001", "  张伟 ", "S1", date(2015, 9, 1), ADMIN, at(date(2024, 1, 2)))
    assert (teacher.teacher_no, teacher.name, teacher.school_id) == ("A001", "张伟", "S1")
    assert teacher.school_on(date(2015, 9, 1)) == "S1"


@pytest.mark.parametrize("bad", ["", " A001", "A/001", "A" * 33])
def test_a_teacher_number_must_be_short_trimmed_and_slash_free(bad: str) -> None:
    with pytest.raises(DomainError) as caught:
        Teacher.register(bad, "张伟", "S1", None, ADMIN, at(date(2024, 1, 2)))
    assert caught.value.code == "invalid_teacher_no"


@pytest.mark.parametrize("bad", ["", "  ", "名" * 51])
def test_a_teacher_name_must_be_1_to_50_characters(bad: str) -> None:
    with pytest.raises(DomainError) as caught:
        Teacher.register("A001", bad, "S1", None, ADMIN, at(date(2024, 1, 2)))
    assert caught.value.code == "invalid_name"


def test_a_transfer_moves_the_teacher_from_its_effective_date() -> None:
    teacher = make_teacher()
    teacher.transfer("S2", date(2024, 4, 1), ADMIN, at(date(2024, 4, 2)), date(2024, 4, 2))
    assert teacher.school_id == "S2"
    assert teacher.school_on(date(2024, 3, 31)) == "S1"
    assert teacher.school_on(date(2024, 4, 1)) == "S2"
    event = last_event(teacher)
    assert (event.from_school_id, event.to_school_id) == ("S1", "S2")


def test_a_transfer_may_be_recorded_on_its_effective_day() -> None:
    teacher = make_teacher()
    teacher.transfer("S2", date(2024, 4, 1), ADMIN, at(date(2024, 4, 1)), date(2024, 4, 1))
    assert teacher.school_id == "S2"


def test_a_transfer_to_the_current_school_is_refused() -> None:
    teacher = make_teacher()
    with refused(teacher, "same_school"):
        teacher.transfer("S1", date(2024, 4, 1), ADMIN, at(date(2024, 4, 2)), date(2024, 4, 2))


def test_a_transfer_in_the_future_is_refused() -> None:
    teacher = make_teacher()
    with refused(teacher, "transfer_in_future"):
        teacher.transfer("S2", date(2024, 4, 3), ADMIN, at(date(2024, 4, 2)), date(2024, 4, 2))


def test_a_transfer_before_the_current_posting_began_is_refused() -> None:
    teacher = make_teacher()
    teacher.transfer("S2", date(2024, 4, 1), ADMIN, at(date(2024, 4, 2)), date(2024, 4, 2))
    with refused(teacher, "transfer_out_of_order"):
        teacher.transfer("S3", date(2024, 3, 31), ADMIN, at(date(2024, 5, 2)), date(2024, 5, 2))


def test_a_transfer_before_the_hiring_date_is_refused() -> None:
    teacher = make_teacher(hired_on=date(2020, 9, 1))
    with refused(teacher, "transfer_out_of_order"):
        teacher.transfer("S2", date(2020, 8, 31), ADMIN, at(date(2024, 4, 2)), date(2024, 4, 2))


def test_a_teacher_without_a_hiring_date_may_transfer_on_any_past_date() -> None:
    teacher = make_teacher(hired_on=None)
    teacher.transfer("S2", date(2001, 1, 1), ADMIN, at(date(2024, 4, 2)), date(2024, 4, 2))
    assert teacher.school_on(date(2000, 12, 31)) == "S1"
    assert teacher.school_on(date(2001, 1, 1)) == "S2"


# ================================================================================================
# enrolment (rules/enrolment.py)
# ================================================================================================


def test_enrolling_keeps_the_programme_facts_on_the_teachers_history() -> None:
    teacher, programme = make_teacher(), make_programme()
    eid = enrol(teacher, programme)
    enrolment = teacher.enrolment(programme.code)
    assert enrolment.programme == programme.facts()
    assert eid == enrolment.event_id == event_id(teacher.id, teacher.version)
    assert last_event(teacher).actor == SCHOOL.as_record()


def test_enrolling_twice_in_a_programme_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "already_enrolled") as caught:
        enrol(teacher, programme)
    assert isinstance(caught.value, Conflict)


def test_a_school_based_programme_admits_its_own_schools_staff() -> None:
    teacher, programme = make_teacher(school="S1"), school_based(owner="S1")
    enrol(teacher, programme)
    assert programme.code in teacher.enrolments


def test_a_school_based_programme_refuses_staff_of_another_school() -> None:
    teacher, programme = make_teacher(school="S1"), school_based(owner="S2")
    with refused(teacher, "outside_programme_school"):
        enrol(teacher, programme)


def test_a_school_based_programme_admits_a_teacher_after_transferring_in() -> None:
    teacher, programme = make_teacher(school="S1"), school_based(owner="S2")
    teacher.transfer("S2", date(2024, 2, 1), ADMIN, at(date(2024, 2, 1)), date(2024, 2, 1))
    enrol(teacher, programme)
    assert programme.code in teacher.enrolments


def autumn_2023_assessed() -> tuple[Teacher, Programme]:
    """Assessed, not evaluated, in a programme that ended 2023-12-20 (autumn 2023 term)."""
    old = make_programme("P-2023-A", starts_on=date(2023, 12, 18))
    teacher = make_teacher()
    enrol(teacher, old)
    assess(teacher, old)
    return teacher, old


def test_gating_refuses_a_spring_2024_programme_while_an_autumn_2023_evaluation_is_pending() -> None:
    teacher, _ = autumn_2023_assessed()
    with refused(teacher, "evaluation_pending") as caught:
        enrol(teacher, make_programme("P-2024-S", starts_on=date(2024, 3, 4)))
    assert "P-2023-A" in caught.value.detail
    assert "2024 spring" in caught.value.detail


def test_gating_allows_a_programme_starting_in_the_same_term() -> None:
    teacher, _ = autumn_2023_assessed()
    enrol(teacher, make_programme("P-2024-J", starts_on=date(2024, 1, 15)))
    assert "P-2024-J" in teacher.enrolments


def test_gating_treats_january_31_as_the_same_autumn_term() -> None:
    teacher, _ = autumn_2023_assessed()
    enrol(teacher, make_programme("P-2024-J", starts_on=date(2024, 1, 31), days=1))
    with refused(teacher, "evaluation_pending"):
        enrol(teacher, make_programme("P-2024-F", starts_on=date(2024, 2, 1), days=1))


def test_gating_allows_a_new_term_once_the_old_programme_is_evaluated() -> None:
    teacher, old = autumn_2023_assessed()
    evaluate(teacher, old)
    enrol(teacher, make_programme("P-2024-S", starts_on=date(2024, 3, 4)))
    assert "P-2024-S" in teacher.enrolments


def test_gating_ignores_earlier_programmes_that_were_never_assessed() -> None:
    teacher = make_teacher()
    enrol(teacher, make_programme("P-2023-A", starts_on=date(2023, 12, 18)))
    enrol(teacher, make_programme("P-2024-S", starts_on=date(2024, 3, 4)))
    assert "P-2024-S" in teacher.enrolments


def test_gating_counts_a_failed_assessment_too() -> None:
    old = make_programme("P-2023-A", starts_on=date(2023, 12, 18))
    teacher = make_teacher()
    enrol(teacher, old)
    assess(teacher, old, AssessmentResult.FAIL)
    with refused(teacher, "evaluation_pending"):
        enrol(teacher, make_programme("P-2024-S", starts_on=date(2024, 3, 4)))


# ================================================================================================
# leave and substitution (rules/absence.py)
# ================================================================================================


def test_a_leave_request_is_recorded_pending() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme, reason="  生病住院 ")
    absence = teacher.enrolment(programme.code).absence
    assert absence is not None
    assert (absence.kind, absence.reason, absence.status) == ("leave", "生病住院", "pending")
    assert last_event(teacher).actor == TRAINEE.as_record()


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_leave_request_without_a_reason_is_refused(reason: str) -> None:
    teacher, programme = enrolled()
    with refused(teacher, "reason_required"):
        request_leave(teacher, programme, reason=reason)


def test_a_leave_request_with_an_overlong_reason_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "reason_too_long"):
        request_leave(teacher, programme, reason="病" * 2001)


def test_a_substitution_names_its_substitute() -> None:
    teacher, programme = enrolled()
    teacher.request_absence(programme.code, AbsenceKind.SUBSTITUTION, "外出学习", "A002", TRAINEE, at(START), START)
    absence = teacher.enrolment(programme.code).absence
    assert absence is not None
    assert absence.is_substitution
    assert absence.substitute_teacher_no == "A002"


def test_a_substitution_without_a_substitute_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "substitute_required"):
        teacher.request_absence(programme.code, AbsenceKind.SUBSTITUTION, "外出学习", None, TRAINEE, at(START), START)


def test_a_leave_naming_a_substitute_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "substitute_not_allowed"):
        teacher.request_absence(programme.code, AbsenceKind.LEAVE, "生病", "A002", TRAINEE, at(START), START)


def test_a_teacher_cannot_substitute_for_themself() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "invalid_substitute"):
        teacher.request_absence(programme.code, AbsenceKind.SUBSTITUTION, "外出", "A001", TRAINEE, at(START), START)


def test_an_absence_for_a_programme_not_enrolled_in_is_not_found() -> None:
    teacher = make_teacher()
    with refused(teacher, "not_enrolled"):
        request_leave(teacher, make_programme())


def test_a_second_absence_while_one_is_pending_is_refused() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    with refused(teacher, "absence_exists"):
        request_leave(teacher, programme)


def test_a_second_absence_once_one_is_approved_is_refused() -> None:
    teacher, programme = on_leave()
    with refused(teacher, "absence_exists"):
        request_leave(teacher, programme)


def test_a_new_absence_may_be_filed_after_a_rejection() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    teacher.decide_absence(programme.code, Approver.SCHOOL, Decision.REJECTED, "理由不足", SCHOOL, at(START))
    request_leave(teacher, programme, reason="补充病历")
    absence = teacher.enrolment(programme.code).absence
    assert absence is not None
    assert (absence.reason, absence.status) == ("补充病历", "pending")


def test_an_absence_may_be_filed_on_the_programmes_last_day() -> None:
    teacher, programme = enrolled()
    teacher.request_absence(programme.code, AbsenceKind.LEAVE, "生病", None, TRAINEE, at(END), END)
    assert teacher.enrolment(programme.code).absence is not None


def test_an_absence_after_the_programme_ended_is_refused() -> None:
    teacher, programme = enrolled()
    day = END + timedelta(days=1)
    with refused(teacher, "programme_ended"):
        teacher.request_absence(programme.code, AbsenceKind.LEAVE, "生病", None, TRAINEE, at(day), day)


def test_an_absence_after_the_assessment_is_refused() -> None:
    teacher, programme = enrolled()
    teacher.assess(programme.code, 3, 3, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, at(END))
    with refused(teacher, "already_assessed"):
        teacher.request_absence(programme.code, AbsenceKind.LEAVE, "生病", None, TRAINEE, at(END), END)


def test_an_absence_counts_once_both_school_and_provider_approve() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    assert approve(teacher, programme, Approver.SCHOOL).status == "pending"
    assert not teacher.enrolment(programme.code).absent
    assert approve(teacher, programme, Approver.PROVIDER).status == "approved"
    assert teacher.enrolment(programme.code).absent


def test_an_absence_is_rejected_as_soon_as_one_approver_rejects() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    approve(teacher, programme, Approver.SCHOOL)
    absence = teacher.decide_absence(
        programme.code, Approver.PROVIDER, Decision.REJECTED, "名额已满", PROVIDER, at(START)
    )
    assert absence.status == "rejected"
    assert not teacher.enrolment(programme.code).absent


def test_an_approver_cannot_decide_the_same_absence_twice() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    approve(teacher, programme, Approver.SCHOOL)
    with refused(teacher, "absence_already_decided"):
        teacher.decide_absence(programme.code, Approver.SCHOOL, Decision.REJECTED, "改主意", SCHOOL, at(START))


def test_deciding_without_an_absence_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "absence_not_found"):
        approve(teacher, programme, Approver.SCHOOL)


def test_deciding_a_rejected_absence_is_refused() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    teacher.decide_absence(programme.code, Approver.SCHOOL, Decision.REJECTED, "理由不足", SCHOOL, at(START))
    with refused(teacher, "absence_not_found"):
        approve(teacher, programme, Approver.PROVIDER)


# ================================================================================================
# attendance (rules/attendance.py)
# ================================================================================================


def test_a_presence_mark_is_recorded() -> None:
    teacher, programme = enrolled()
    assert teacher.record_attendance(programme.code, 1, True, PROVIDER, at(START, 18))
    event = last_event(teacher)
    assert (event.session_no, event.present, event.corrects, event.reason) == (1, True, None, "")
    assert teacher.enrolment(programme.code).attended


def test_a_mark_for_a_session_the_programme_lacks_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "session_not_found"):
        teacher.record_attendance(programme.code, 4, True, PROVIDER, at(START, 18))


def test_a_mark_for_a_programme_not_enrolled_in_is_refused() -> None:
    teacher = make_teacher()
    with refused(teacher, "not_enrolled"):
        teacher.record_attendance("P-NONE", 1, True, PROVIDER, at(START, 18))


def test_an_excused_trainee_cannot_be_marked_present() -> None:
    teacher, programme = on_leave()
    with refused(teacher, "absence_approved"):
        teacher.record_attendance(programme.code, 1, True, PROVIDER, at(START, 18))


def test_an_excused_trainee_can_be_marked_absent() -> None:
    teacher, programme = on_leave()
    assert teacher.record_attendance(programme.code, 1, False, PROVIDER, at(START, 18))


def test_a_trainee_with_a_pending_absence_can_be_marked_present() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    assert teacher.record_attendance(programme.code, 1, True, PROVIDER, at(START, 18))


def test_repeating_an_unchanged_mark_records_nothing() -> None:
    teacher, programme = enrolled()
    teacher.record_attendance(programme.code, 1, True, PROVIDER, at(START, 18))
    before = len(teacher.pending_events)
    assert teacher.record_attendance(programme.code, 1, True, PROVIDER, at(START, 19)) is False
    assert len(teacher.pending_events) == before


def test_a_changed_mark_is_a_correction_pointing_at_the_previous_mark() -> None:
    teacher, programme = enrolled()
    teacher.record_attendance(programme.code, 1, True, PROVIDER, at(START, 18))
    first_id = teacher.enrolment(programme.code).attendance[1].event_id
    assert first_id == event_id(teacher.id, teacher.version)
    assert teacher.record_attendance(programme.code, 1, False, PROVIDER, at(START, 19))
    correction = last_event(teacher)
    assert correction.corrects == first_id
    assert correction.reason == "correction"
    assert teacher.enrolment(programme.code).attendance[1].present is False
    assert teacher.enrolment(programme.code).attendance[1].event_id == event_id(teacher.id, teacher.version)


def test_a_second_correction_points_at_the_first_correction() -> None:
    teacher, programme = enrolled()
    teacher.record_attendance(programme.code, 1, True, PROVIDER, at(START, 18))
    teacher.record_attendance(programme.code, 1, False, PROVIDER, at(START, 19))
    correction_id = event_id(teacher.id, teacher.version)
    teacher.record_attendance(programme.code, 1, True, PROVIDER, at(START, 20))
    assert last_event(teacher).corrects == correction_id


def test_a_session_held_today_or_earlier_can_be_marked() -> None:
    session = make_programme().session(1)
    ensure_session_held(session, START)
    ensure_session_held(session, END)


def test_a_session_not_held_yet_cannot_be_marked() -> None:
    with pytest.raises(DomainError) as caught:
        ensure_session_held(make_programme().session(2), START)
    assert caught.value.code == "session_not_held"


# ================================================================================================
# assessment (rules/assessment.py)
# ================================================================================================


def test_an_assessment_within_five_days_is_recorded_on_time() -> None:
    teacher, programme = enrolled()
    teacher.record_attendance(programme.code, 1, True, PROVIDER, at(START, 18))
    teacher.assess(programme.code, 4, 5, AssessmentResult.GOOD, DEFAULT_POLICY, PROVIDER, at(END + timedelta(days=5)))
    assessment = teacher.enrolment(programme.code).assessment
    assert assessment is not None
    assert assessment["result"] == "good"
    assert assessment["due_on"] == END + timedelta(days=5)
    assert assessment["late"] is False
    assert assessment["attendance_rate"] == Decimal("0.3333")
    assert assessment["assessed_by"] == PROVIDER.as_record()
    assert last_event(teacher).policy_version == DEFAULT_POLICY.version


def test_an_assessment_more_than_five_days_after_the_end_is_flagged_late_but_recorded() -> None:
    teacher, programme = enrolled()
    teacher.assess(programme.code, 4, 4, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, at(END + timedelta(days=6)))
    assessment = teacher.enrolment(programme.code).assessment
    assert assessment is not None
    assert assessment["late"] is True
    assert last_event(teacher).late is True


def test_an_assessment_after_shanghai_midnight_of_the_due_day_is_late() -> None:
    teacher, programme = enrolled()
    due = END + timedelta(days=5)
    instant = datetime.combine(due, time(16, 30), UTC)  # 00:30 the next day in Shanghai
    teacher.assess(programme.code, 4, 4, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, instant)
    assert last_event(teacher).late is True


def test_an_assessment_on_the_last_day_of_the_programme_is_allowed() -> None:
    teacher, programme = enrolled()
    teacher.assess(programme.code, 4, 4, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, at(END, 17))
    assert teacher.enrolment(programme.code).assessment is not None


def test_an_assessment_before_the_programme_ends_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "programme_not_ended"):
        teacher.assess(
            programme.code, 4, 4, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, at(END - timedelta(days=1))
        )


def test_the_end_is_judged_by_the_shanghai_date_not_the_utc_date() -> None:
    teacher, programme = enrolled()
    instant = datetime.combine(END - timedelta(days=1), time(16, 30), UTC)  # already END in Shanghai
    teacher.assess(programme.code, 4, 4, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, instant)
    assert teacher.enrolment(programme.code).assessment is not None


def test_a_second_assessment_is_refused() -> None:
    teacher, programme = assessed()
    with refused(teacher, "already_assessed"):
        assess(teacher, programme, AssessmentResult.EXCELLENT, after=2)


def test_an_excused_trainee_cannot_be_assessed() -> None:
    teacher, programme = on_leave()
    with refused(teacher, "absence_approved"):
        assess(teacher, programme)


@pytest.mark.parametrize(("attitude", "assignments"), [(0, 3), (6, 3), (3, 0), (3, 6), (True, 3), ("3", 3), (3, 3.0)])
def test_assessment_scores_must_be_integers_from_one_to_five(attitude: Any, assignments: Any) -> None:
    teacher, programme = enrolled()
    with refused(teacher, "invalid_score"):
        teacher.assess(programme.code, attitude, assignments, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER,
                       at(END + timedelta(days=1)))


@pytest.mark.parametrize("score", [1, 5])
def test_assessment_scores_of_one_and_five_are_accepted(score: int) -> None:
    teacher, programme = enrolled()
    teacher.assess(programme.code, score, score, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, at(END))
    assert teacher.enrolment(programme.code).assessment is not None


def test_assessing_a_programme_not_enrolled_in_is_refused() -> None:
    teacher = make_teacher()
    with refused(teacher, "not_enrolled"):
        assess(teacher, make_programme())


# ================================================================================================
# evaluation (rules/evaluation.py)
# ================================================================================================


def test_an_evaluation_within_ten_days_is_recorded_on_time() -> None:
    teacher, programme = assessed()
    teacher.evaluate(programme.code, 5, 4, 3, "  收获很大 ", DEFAULT_POLICY, TRAINEE, at(END + timedelta(days=10)))
    evaluation = teacher.enrolment(programme.code).evaluation
    assert evaluation is not None
    assert (evaluation["form"], evaluation["instructors"], evaluation["management"]) == (5, 4, 3)
    assert evaluation["comment"] == "收获很大"
    assert evaluation["due_on"] == END + timedelta(days=10)
    assert evaluation["late"] is False


def test_an_evaluation_more_than_ten_days_after_the_end_is_flagged_late_but_recorded() -> None:
    teacher, programme = assessed()
    teacher.evaluate(programme.code, 5, 4, 3, None, DEFAULT_POLICY, TRAINEE, at(END + timedelta(days=11)))
    evaluation = teacher.enrolment(programme.code).evaluation
    assert evaluation is not None
    assert evaluation["late"] is True


def test_a_blank_comment_is_recorded_as_none() -> None:
    teacher, programme = assessed()
    teacher.evaluate(programme.code, 5, 4, 3, "   ", DEFAULT_POLICY, TRAINEE, at(END + timedelta(days=1)))
    assert teacher.enrolment(programme.code).evaluation["comment"] is None  # type: ignore[index]


def test_an_overlong_comment_is_refused() -> None:
    teacher, programme = assessed()
    with refused(teacher, "comment_too_long"):
        teacher.evaluate(programme.code, 5, 4, 3, "好" * 2001, DEFAULT_POLICY, TRAINEE, at(END + timedelta(days=1)))


def test_an_evaluation_before_the_programme_ends_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "programme_not_ended"):
        teacher.evaluate(programme.code, 5, 4, 3, None, DEFAULT_POLICY, TRAINEE, at(START))


def test_a_second_evaluation_is_refused() -> None:
    teacher, programme = assessed()
    evaluate(teacher, programme)
    with refused(teacher, "already_evaluated"):
        evaluate(teacher, programme, after=3)


def test_an_excused_trainee_cannot_evaluate() -> None:
    teacher, programme = on_leave()
    with refused(teacher, "absence_approved"):
        evaluate(teacher, programme)


@pytest.mark.parametrize("scores", [(0, 3, 3), (3, 6, 3), (3, 3, -1), (3, 3, False)])
def test_evaluation_scores_must_be_integers_from_one_to_five(scores: tuple[Any, Any, Any]) -> None:
    teacher, programme = assessed()
    with refused(teacher, "invalid_score"):
        teacher.evaluate(programme.code, *scores, None, DEFAULT_POLICY, TRAINEE, at(END + timedelta(days=1)))


# ================================================================================================
# credit recognition (rules/credits.py)
# ================================================================================================


def test_a_credit_is_awarded_after_a_passing_assessment_with_its_evidence() -> None:
    teacher, programme = assessed()
    assessment_id = teacher.enrolment(programme.code).assessment["event_id"]  # type: ignore[index]
    eid = award(teacher, programme, hours=Decimal(24))
    credit = teacher.credit("C-1")
    assert eid == credit.event_id == event_id(teacher.id, teacher.version)
    assert credit.evidence == {"assessment_event_id": assessment_id}
    assert (credit.hours, credit.credits, credit.year, credit.school_id) == (Decimal(24), Decimal(24), 2024, "S1")
    assert credit.certified_by == SUPERVISOR.as_record()
    assert credit.awarded_on == END + timedelta(days=3)
    assert credit.policy_version == DEFAULT_POLICY.version
    assert credit.status == "valid"


def test_a_credit_may_recognise_fewer_hours_than_the_programme() -> None:
    teacher, programme = assessed()
    award(teacher, programme, hours=Decimal("12.5"))
    assert teacher.credit("C-1").hours == Decimal("12.5")


def test_a_credit_above_the_programme_hours_is_refused() -> None:
    teacher, programme = assessed()
    with refused(teacher, "hours_exceed_programme"):
        award(teacher, programme, hours=Decimal("24.5"))


@pytest.mark.parametrize("hours", [Decimal(0), Decimal(-8), Decimal("8.25")])
def test_a_credit_of_invalid_hours_is_refused(hours: Decimal) -> None:
    teacher, programme = assessed()
    with refused(teacher, "invalid_hours"):
        award(teacher, programme, hours=hours)


def test_a_second_credit_for_the_same_programme_is_refused() -> None:
    teacher, programme = credited()
    with refused(teacher, "credit_already_awarded"):
        award(teacher, programme, credit_id="C-2")


def test_a_credit_id_cannot_be_reused_for_another_programme() -> None:
    teacher, _ = credited()
    other = make_programme("P-2024-02", starts_on=date(2024, 3, 11))
    enrol(teacher, other)
    assess(teacher, other)
    with refused(teacher, "credit_exists"):
        award(teacher, other, credit_id="C-1")


def test_a_credit_without_an_assessment_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "assessment_required"):
        award(teacher, programme)


def test_a_credit_after_a_failed_assessment_is_refused() -> None:
    teacher, programme = assessed(AssessmentResult.FAIL)
    with refused(teacher, "assessment_failed"):
        award(teacher, programme)


@pytest.mark.parametrize("result", [AssessmentResult.PASS, AssessmentResult.GOOD, AssessmentResult.EXCELLENT])
def test_a_pass_good_or_excellent_assessment_earns_credit(result: AssessmentResult) -> None:
    teacher, programme = assessed(result)
    award(teacher, programme)
    assert teacher.credit("C-1").hours == programme.hours


def test_a_credit_for_a_programme_not_enrolled_in_is_refused() -> None:
    teacher = make_teacher()
    with refused(teacher, "not_enrolled"):
        award(teacher, make_programme())


def test_a_credit_counts_in_the_year_its_programme_ended() -> None:
    old = make_programme("P-2023-D", starts_on=date(2023, 12, 27))
    teacher = make_teacher()
    enrol(teacher, old)
    assess(teacher, old)
    teacher.award_credit("C-1", old.code, Decimal(24), DEFAULT_POLICY, SUPERVISOR, at(date(2024, 1, 5)))
    credit = teacher.credit("C-1")
    assert (credit.year, credit.awarded_on) == (2023, date(2024, 1, 5))


def test_a_credit_is_booked_to_the_school_where_the_programme_ended() -> None:
    teacher, programme = assessed()
    teacher.transfer("S2", END + timedelta(days=1), ADMIN, at(END + timedelta(days=2)), END + timedelta(days=2))
    award(teacher, programme)
    assert teacher.credit("C-1").school_id == "S1"
    assert teacher.school_id == "S2"


def test_a_credit_is_converted_to_credits_by_the_policy_given() -> None:
    beijing = Policy.model_validate(
        {**DEFAULT_POLICY.model_dump(mode="json"), "version": "beijing-1", "conversions": [{"hours_per_credit": "10"}]}
    )
    teacher, programme = assessed()
    award(teacher, programme, policy=beijing)
    credit = teacher.credit("C-1")
    assert (credit.hours, credit.credits, credit.policy_version) == (Decimal(24), Decimal("2.40"), "beijing-1")


def test_an_excellent_result_uses_the_excellent_rate_when_awarding() -> None:
    policy = Policy.model_validate(
        {**DEFAULT_POLICY.model_dump(mode="json"),
         "conversions": [{"hours_per_credit": "8", "excellent_hours_per_credit": "6"}]}
    )
    teacher, programme = assessed(AssessmentResult.EXCELLENT)
    award(teacher, programme, policy=policy)
    assert teacher.credit("C-1").credits == Decimal("4.00")


def test_a_revoked_credit_can_be_replaced_by_a_new_award() -> None:
    teacher, programme = credited(hours=Decimal(16))
    teacher.revoke_credit("C-1", "学时认定有误", SUPERVISOR, at(END + timedelta(days=5)))
    award(teacher, programme, credit_id="C-2", hours=Decimal(24))
    assert teacher.credit("C-1").status == "revoked"
    assert teacher.credit("C-2").status == "valid"
    assert teacher.credit("C-2").hours == Decimal(24)


# ================================================================================================
# revocation
# ================================================================================================


def test_a_revocation_records_who_and_why() -> None:
    teacher, _ = credited()
    teacher.revoke_credit("C-1", "  重复登记 ", SUPERVISOR, at(END + timedelta(days=5)))
    credit = teacher.credit("C-1")
    assert credit.revoked
    assert credit.revoked_reason == "重复登记"
    assert credit.revoked_event_id == event_id(teacher.id, teacher.version)
    event = last_event(teacher)
    assert (event.credit_id, event.dispute_id, event.actor) == ("C-1", None, SUPERVISOR.as_record())


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_revocation_without_a_reason_is_refused(reason: str) -> None:
    teacher, _ = credited()
    with refused(teacher, "reason_required"):
        teacher.revoke_credit("C-1", reason, SUPERVISOR, at(END + timedelta(days=5)))


def test_a_revoked_credit_cannot_be_revoked_again() -> None:
    teacher, _ = credited()
    teacher.revoke_credit("C-1", "重复登记", SUPERVISOR, at(END + timedelta(days=5)))
    with refused(teacher, "credit_already_revoked"):
        teacher.revoke_credit("C-1", "再次撤销", SUPERVISOR, at(END + timedelta(days=6)))


def test_revoking_an_unknown_credit_is_not_found() -> None:
    teacher, _ = credited()
    with refused(teacher, "credit_not_found") as caught:
        teacher.revoke_credit("C-404", "重复登记", SUPERVISOR, at(END + timedelta(days=5)))
    assert isinstance(caught.value, NotFound)


# ================================================================================================
# disputes (rules/disputes.py)
# ================================================================================================


def test_a_dispute_is_opened_with_its_claim_and_evidence() -> None:
    teacher, programme = credited(hours=Decimal(16))
    teacher.open_dispute("D-1", programme.code, " 少认定了8学时 ", [{"name": " 签到表.pdf ", "sha256": SHA.upper()}],
                         TRAINEE, at(END + timedelta(days=20)))
    dispute = teacher.dispute("D-1")
    assert dispute.open
    assert dispute.claim == "少认定了8学时"
    assert dispute.evidence == [{"name": "签到表.pdf", "sha256": SHA}]
    assert dispute.event_id == event_id(teacher.id, teacher.version)


def test_a_dispute_may_have_no_evidence() -> None:
    teacher, programme = enrolled()
    teacher.open_dispute("D-1", programme.code, "漏记学时", [], TRAINEE, at(END + timedelta(days=20)))
    assert teacher.dispute("D-1").evidence == []


def test_a_dispute_without_a_claim_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "claim_required"):
        teacher.open_dispute("D-1", programme.code, "  ", EVIDENCE, TRAINEE, at(END))


def test_a_dispute_with_an_overlong_claim_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "claim_too_long"):
        teacher.open_dispute("D-1", programme.code, "诉" * 4001, EVIDENCE, TRAINEE, at(END))


@pytest.mark.parametrize(
    "evidence",
    [
        [{"name": "a.pdf", "sha256": "ab" * 31}],
        [{"name": "a.pdf", "sha256": "zz" * 32}],
        [{"name": "", "sha256": SHA}],
        [{"name": "a" * 256, "sha256": SHA}],
        [{"sha256": SHA}],
        [{"name": "a.pdf"}],
        [{"name": f"{i}.pdf", "sha256": SHA} for i in range(51)],
    ],
)
def test_malformed_evidence_is_refused(evidence: list[dict[str, str]]) -> None:
    teacher, programme = enrolled()
    with refused(teacher, "invalid_evidence"):
        teacher.open_dispute("D-1", programme.code, "漏记学时", evidence, TRAINEE, at(END))


def test_a_dispute_about_a_programme_not_enrolled_in_is_refused() -> None:
    teacher = make_teacher()
    with refused(teacher, "not_enrolled"):
        open_dispute(teacher, make_programme())


def test_a_second_open_dispute_about_the_same_programme_is_refused() -> None:
    teacher, programme = enrolled()
    open_dispute(teacher, programme)
    with refused(teacher, "dispute_already_open"):
        open_dispute(teacher, programme, "D-2")


def test_a_new_dispute_may_follow_a_resolved_one() -> None:
    teacher, programme = enrolled()
    open_dispute(teacher, programme)
    resolve(teacher, programme, DisputeDecision.REJECTED)
    open_dispute(teacher, programme, "D-2")
    assert teacher.dispute("D-2").open


def test_open_disputes_about_different_programmes_may_coexist() -> None:
    teacher, programme = enrolled()
    other = make_programme("P-2024-02", starts_on=date(2024, 3, 11))
    enrol(teacher, other)
    open_dispute(teacher, programme, "D-1")
    open_dispute(teacher, other, "D-2")
    assert teacher.dispute("D-1").open
    assert teacher.dispute("D-2").open


def test_a_rejected_dispute_records_its_reason_and_nothing_else() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    before = len(teacher.pending_events)
    assert resolve(teacher, programme, DisputeDecision.REJECTED, reason="证据不足") is None
    assert len(teacher.pending_events) == before + 1
    dispute = teacher.dispute("D-1")
    assert (dispute.decision, dispute.resolution_reason, dispute.open) == ("rejected", "证据不足", False)
    assert teacher.credit("C-1").status == "valid"


def test_an_upheld_dispute_without_hours_records_only_the_resolution() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    before = len(teacher.pending_events)
    assert resolve(teacher, programme, DisputeDecision.UPHELD) is None
    assert len(teacher.pending_events) == before + 1
    assert teacher.dispute("D-1").decision == "upheld"


def test_an_upheld_dispute_with_hours_replaces_the_credit_both_pointing_at_the_dispute() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    before = len(teacher.pending_events)
    assert resolve(teacher, programme, award_hours=Decimal(24), new_credit_id="C-2") == "C-2"
    resolved, revoked, awarded = teacher.pending_events[before:]
    assert type(resolved).__name__ == "DisputeResolved"
    assert (resolved.dispute_id, resolved.award_hours) == ("D-1", Decimal(24))
    assert type(revoked).__name__ == "CreditRevoked"
    assert (revoked.credit_id, revoked.dispute_id) == ("C-1", "D-1")
    assert "D-1" in revoked.reason
    assert type(awarded).__name__ == "CreditAwarded"
    assert awarded.credit_id == "C-2"
    assert awarded.evidence == {"dispute_id": "D-1"}
    assert teacher.credit("C-1").status == "revoked"
    assert teacher.credit("C-2").hours == Decimal(24)
    assert teacher.credit("C-2").certified_by == SUPERVISOR.as_record()


def test_an_upheld_dispute_can_award_hours_where_no_credit_was_given() -> None:
    teacher, programme = assessed(AssessmentResult.FAIL)
    open_dispute(teacher, programme)
    resolve(teacher, programme, award_hours=Decimal(8), new_credit_id="C-9")
    credit = teacher.credit("C-9")
    assert (credit.hours, credit.evidence, credit.status) == (Decimal(8), {"dispute_id": "D-1"}, "valid")


def test_hours_awarded_on_a_dispute_cannot_exceed_the_programme() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    with refused(teacher, "hours_exceed_programme"):
        resolve(teacher, programme, award_hours=Decimal(25))
    assert teacher.dispute("D-1").open


def test_hours_awarded_on_a_dispute_must_be_valid() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    with refused(teacher, "invalid_hours"):
        resolve(teacher, programme, award_hours=Decimal("0"))


def test_a_rejected_dispute_cannot_award_hours() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    with refused(teacher, "award_needs_upheld"):
        resolve(teacher, programme, DisputeDecision.REJECTED, award_hours=Decimal(24))


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_resolution_without_a_reason_is_refused(reason: str) -> None:
    teacher, programme = enrolled()
    open_dispute(teacher, programme)
    with refused(teacher, "reason_required"):
        resolve(teacher, programme, DisputeDecision.REJECTED, reason=reason)


def test_a_dispute_cannot_be_resolved_twice() -> None:
    teacher, programme = enrolled()
    open_dispute(teacher, programme)
    resolve(teacher, programme, DisputeDecision.REJECTED)
    with refused(teacher, "dispute_already_resolved"):
        resolve(teacher, programme, DisputeDecision.UPHELD)


def test_resolving_an_unknown_dispute_is_not_found() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "dispute_not_found"):
        resolve(teacher, programme, dispute_id="D-404")


def test_an_upheld_dispute_refused_for_a_taken_credit_id_records_nothing() -> None:
    teacher, programme = credited(hours=Decimal(16))
    open_dispute(teacher, programme)
    with refused(teacher, "credit_exists"):
        resolve(teacher, programme, award_hours=Decimal(24), new_credit_id="C-1")
    assert teacher.dispute("D-1").open
    assert teacher.credit("C-1").status == "valid"


def test_a_dispute_id_cannot_be_reused() -> None:
    teacher, programme = enrolled()
    open_dispute(teacher, programme, "D-1")
    resolve(teacher, programme, DisputeDecision.REJECTED)
    with pytest.raises(DomainError):
        open_dispute(teacher, programme, "D-1")
    assert teacher.dispute("D-1").decision == "rejected"


# ================================================================================================
# org units (org.py)
# ================================================================================================


def test_org_units_are_registered_under_allowed_parents() -> None:
    county = OrgUnit.register("C1", "示范县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 1)))
    town = OrgUnit.register("T1", "城关镇", OrgKind.TOWN, county, ADMIN, at(date(2024, 1, 1)))
    school = OrgUnit.register("S1", "城关第一小学", OrgKind.SCHOOL, town, ADMIN, at(date(2024, 1, 1)))
    assert (school.parent_id, town.parent_id, county.parent_id) == ("T1", "C1", None)


@pytest.mark.parametrize(("kind", "parent_kind"), [(OrgKind.SCHOOL, None), (OrgKind.TOWN, None),
                                                   (OrgKind.PROVINCE, OrgKind.CITY)])
def test_an_org_unit_under_a_disallowed_parent_is_refused(kind: OrgKind, parent_kind: OrgKind | None) -> None:
    parent = None
    if parent_kind is not None:
        parent = OrgUnit.register("X1", "上级", parent_kind, None, ADMIN, at(date(2024, 1, 1)))
    with pytest.raises(DomainError) as caught:
        OrgUnit.register("Y1", "下级", kind, parent, ADMIN, at(date(2024, 1, 1)))
    assert caught.value.code == "invalid_parent"


@pytest.mark.parametrize("bad", ["", " C1", "C/1", "C" * 65])
def test_an_org_id_must_be_short_trimmed_and_slash_free(bad: str) -> None:
    with pytest.raises(DomainError) as caught:
        OrgUnit.register(bad, "某县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 1)))
    assert caught.value.code == "invalid_org_id"


def test_an_org_name_must_not_be_blank() -> None:
    with pytest.raises(DomainError) as caught:
        OrgUnit.register("C1", "  ", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 1)))
    assert caught.value.code == "invalid_name"


def test_renaming_to_the_same_name_records_nothing_and_a_new_name_records_once() -> None:
    county = OrgUnit.register("C1", "示范县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 1)))
    assert county.rename(" 示范县 ", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 2))) is False
    assert len(county.pending_events) == 1
    assert county.rename("新示范县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 2))) is True
    assert county.name == "新示范县"


def test_an_org_units_kind_and_parent_cannot_change() -> None:
    county = OrgUnit.register("C1", "示范县", OrgKind.COUNTY, None, ADMIN, at(date(2024, 1, 1)))
    with refused(county, "org_structure_fixed"):
        county.rename("示范县", OrgKind.CITY, None, ADMIN, at(date(2024, 1, 2)))
    with refused(county, "org_structure_fixed"):
        county.rename("示范县", OrgKind.COUNTY, "P0", ADMIN, at(date(2024, 1, 2)))


# ================================================================================================
# every event names its actor and is chained to the one before
# ================================================================================================


def full_history() -> Teacher:
    """A teacher with one event of every kind."""
    teacher = make_teacher()
    teacher.transfer("S2", date(2024, 2, 1), SCHOOL, at(date(2024, 2, 1)), date(2024, 2, 1))
    programme = make_programme()
    enrol(teacher, programme)
    request_leave(teacher, programme)
    teacher.decide_absence(programme.code, Approver.SCHOOL, Decision.REJECTED, "理由不足", SCHOOL, at(START))
    teacher.record_attendance(programme.code, 1, True, PROVIDER, at(START, 18))
    teacher.record_attendance(programme.code, 1, False, PROVIDER, at(START, 19))
    assess(teacher, programme)
    evaluate(teacher, programme)
    award(teacher, programme, hours=Decimal(16))
    open_dispute(teacher, programme)
    resolve(teacher, programme, award_hours=Decimal(24))
    return teacher


def test_a_full_history_holds_every_kind_of_teacher_event() -> None:
    kinds = {type(e).__name__ for e in full_history().pending_events}
    assert kinds == {
        "Registered", "Transferred", "Enrolled", "AbsenceRequested", "AbsenceDecided", "AttendanceRecorded",
        "Assessed", "Evaluated", "CreditAwarded", "CreditRevoked", "DisputeOpened", "DisputeResolved",
    }


def test_every_event_carries_the_actor_that_caused_it() -> None:
    known = {a.as_record()["sub"] for a in (ADMIN, SCHOOL, PROVIDER, SUPERVISOR, TRAINEE)}
    for event in full_history().pending_events:
        assert event.actor["sub"] in known
        assert event.actor["role"]
        assert isinstance(event.reason, str)


def test_the_actors_are_the_ones_who_acted() -> None:
    by_kind = {type(e).__name__: e.actor for e in full_history().pending_events}
    assert by_kind["Registered"] == ADMIN.as_record()
    assert by_kind["Enrolled"] == SCHOOL.as_record()
    assert by_kind["AbsenceRequested"] == TRAINEE.as_record()
    assert by_kind["AttendanceRecorded"] == PROVIDER.as_record()
    assert by_kind["Assessed"] == PROVIDER.as_record()
    assert by_kind["Evaluated"] == TRAINEE.as_record()
    assert by_kind["DisputeOpened"] == TRAINEE.as_record()
    assert by_kind["DisputeResolved"] == SUPERVISOR.as_record()
    assert by_kind["CreditRevoked"] == SUPERVISOR.as_record()


def test_every_event_links_to_the_previous_events_chain_hash() -> None:
    teacher = full_history()
    events = teacher.pending_events
    assert events[0].prev_hash == GENESIS
    for previous, event in pairwise(events):
        assert event.prev_hash == previous.chain_hash
        assert event.originator_version == previous.originator_version + 1
    assert teacher.chain_head == events[-1].chain_hash
    assert len({e.chain_hash for e in events}) == len(events)


def test_every_chain_hash_is_recomputable_from_the_event() -> None:
    for event in full_history().pending_events:
        state = dict(vars(event))
        if getattr(type(event), "class_version", 1) > 1:  # versioned event classes hash their version too
            state["class_version"] = type(event).class_version
        payload = canonical_bytes(get_topic(type(event)), event.originator_id, event.originator_version, state)
        assert chain_digest(event.prev_hash, payload) == event.chain_hash


def test_programme_events_are_chained_and_carry_their_actor_too() -> None:
    programme = make_programme(capacity=2)
    programme.decide(Decision.APPROVED, "", SUPERVISOR, at(date(2024, 2, 20)))
    programme.take_seat("A001", SCHOOL, at(date(2024, 2, 21)))
    programme.pass_seat("A001", "A002", PROVIDER, at(date(2024, 2, 22)), "换人")
    events = programme.pending_events
    assert [e.actor for e in events] == [ADMIN.as_record(), SUPERVISOR.as_record(), SCHOOL.as_record(),
                                         PROVIDER.as_record()]
    assert events[0].prev_hash == GENESIS
    for previous, event in pairwise(events):
        assert event.prev_hash == previous.chain_hash
