"""Corrections, departures, withdrawals and cancellations on the aggregates themselves
(Teacher.correct/depart/withdraw, Programme.cancel_session; domain/rules/lifecycle.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from domain.vocabulary import DepartureKind
from tests.domain.rules.builders import (
    ADMIN,
    PROVIDER,
    SCHOOL,
    START,
    at,
    enrolled,
    last_event,
    make_programme,
    make_teacher,
    refused,
)

BEFORE = date(2024, 2, 20)


def test_a_correction_records_only_what_changes() -> None:
    teacher = make_teacher()
    teacher.correct("张伟伟", date(2015, 9, 1), "姓名有误", SCHOOL, at(BEFORE))  # the hire date is unchanged
    event = last_event(teacher)
    assert (event.name, event.hired_on, event.reason) == ("张伟伟", None, "姓名有误")
    assert (teacher.name, teacher.hired_on) == ("张伟伟", date(2015, 9, 1))
    teacher.correct(None, date(2016, 9, 1), "入职日期有误", SCHOOL, at(BEFORE))
    assert teacher.postings[0].from_date == date(2016, 9, 1)


def test_a_departure_is_recorded_once_and_blocks_new_schools() -> None:
    teacher = make_teacher()
    teacher.depart(DepartureKind.RETIRED, BEFORE - timedelta(days=1), "退休", ADMIN, at(BEFORE), BEFORE)
    event = last_event(teacher)
    assert (event.kind, event.effective_on, event.school_id) == ("retired", date(2024, 2, 19), "S1")
    assert teacher.departure is not None
    assert teacher.departure["effective_on"] == date(2024, 2, 19)
    with refused(teacher, "already_departed"):
        teacher.depart(DepartureKind.OTHER, BEFORE, "重复", ADMIN, at(BEFORE), BEFORE)
    with refused(teacher, "teacher_departed"):
        teacher.ensure_not_departed()
    with refused(teacher, "hired_on_out_of_order"):
        teacher.correct(None, BEFORE, "入职日期", ADMIN, at(BEFORE))


def test_a_withdrawal_removes_the_enrolment_before_the_first_day() -> None:
    teacher, programme = enrolled()
    day_before = START - timedelta(days=1)
    teacher.withdraw(programme.code, "冲突", SCHOOL, at(day_before), day_before)
    assert programme.code not in teacher.enrolments
    assert last_event(teacher).programme_code == programme.code
    with refused(teacher, "not_enrolled"):
        teacher.withdraw(programme.code, "冲突", SCHOOL, at(day_before), day_before)


def test_no_withdrawal_from_the_first_day() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "programme_started"):
        teacher.withdraw(programme.code, "冲突", SCHOOL, at(START, hour=0), START)


def test_a_cancelled_session_leaves_the_programme_with_its_hours() -> None:
    programme = make_programme()  # sessions 1, 2, 3 of 8 h: 24 h
    programme.cancel_session(3, "讲师缺席", PROVIDER, at(BEFORE), BEFORE)
    event = last_event(programme)
    assert (event.session_no, event.hours, event.reason) == (3, Decimal(8), "讲师缺席")
    assert (programme.hours, [s["no"] for s in programme.sessions]) == (Decimal(16), [1, 2])
    assert programme.ends_on == date(2024, 3, 6)
    with refused(programme, "session_cancelled"):
        programme.session(3)
    programme.cancel_session(2, "讲师缺席", PROVIDER, at(BEFORE), BEFORE)
    with refused(programme, "last_session"):
        programme.cancel_session(1, "讲师缺席", PROVIDER, at(BEFORE), BEFORE)
    with refused(programme, "session_held"):
        programme.cancel_session(1, "讲师缺席", PROVIDER, at(START), START)
