"""When a programme is open for enrolment: approved if it needs approval, and not yet ended
(domain/programme.py)."""

from __future__ import annotations

from datetime import date, timedelta

from domain.vocabulary import Decision
from tests.domain.rules.builders import END, START, SUPERVISOR, at, make_programme, refused, school_based


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
