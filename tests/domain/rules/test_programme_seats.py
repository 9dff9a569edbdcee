"""Seats up to a programme's capacity; a substitution passes a seat on (domain/programme.py)."""

from __future__ import annotations

from tests.domain.rules.builders import PROVIDER, SCHOOL, START, at, make_programme, refused


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
