"""Gating: a teacher with an evaluation pending from an earlier term cannot enrol in a programme of a
later term (`evaluation_pending`, domain/rules/enrolment.py)."""

from __future__ import annotations

from datetime import date

from domain.programme import Programme
from domain.teacher import Teacher
from domain.vocabulary import AssessmentResult
from tests.domain.rules.builders import assess, enrol, evaluate, make_programme, make_teacher, refused


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
