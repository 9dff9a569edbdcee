"""Enrolling a teacher in a programme: once, and a school-based programme admits its own school's staff
(domain/rules/enrolment.py)."""

from __future__ import annotations

from datetime import date

from domain.errors import Conflict
from domain.ids import event_id
from tests.domain.rules.builders import (
    ADMIN,
    SCHOOL,
    at,
    enrol,
    enrolled,
    last_event,
    make_programme,
    make_teacher,
    refused,
    school_based,
)


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
