"""Transfers between schools: effective dates, order, the school on a given day (domain/rules/transfers.py)."""

from __future__ import annotations

from datetime import date

from tests.domain.rules.builders import ADMIN, at, last_event, make_teacher, refused


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
