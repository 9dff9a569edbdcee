"""Moving a session not yet held (Programme.reschedule_session; domain/rules/attendance.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.rules.attendance import ensure_session_not_held
from tests.domain.rules.builders import END, PROVIDER, START, at, last_event, make_programme, refused

BEFORE = date(2024, 2, 20)  # a day before the programme: no session held yet


def test_a_session_not_yet_held_moves_to_another_day_of_the_programme() -> None:
    programme = make_programme()  # sessions 1, 2, 3 on 03-04, 03-05, 03-06
    programme.reschedule_session(2, END, "讲师临时有事", PROVIDER, at(BEFORE), BEFORE)
    event = last_event(programme)
    second_day = START + timedelta(days=1)
    assert (event.session_no, event.from_on, event.on, event.reason) == (2, second_day, END, "讲师临时有事")
    assert event.actor["sub"] == "p1"
    assert programme.session(2)["on"] == END
    assert [s["on"] for s in programme.sessions] == [START, END, END]  # two sessions on one day: allowed


@pytest.mark.parametrize("today", [START, START + timedelta(days=1)])
def test_a_session_is_held_on_its_day_and_can_no_longer_move(today: date) -> None:
    programme = make_programme()
    with refused(programme, "session_held"):
        programme.reschedule_session(1, END, "改期", PROVIDER, at(today), today)


def test_the_day_before_a_session_it_can_still_move() -> None:
    programme = make_programme()
    day_before = START - timedelta(days=1)
    programme.reschedule_session(1, END, "改期", PROVIDER, at(day_before), day_before)
    assert programme.session(1)["on"] == END


@pytest.mark.parametrize(("no", "on", "reason", "code"), [
    (4, END, "改期", "session_not_found"),
    (2, END, "  ", "reason_required"),
    (2, START + timedelta(days=1), "改期", "session_unchanged"),
    (2, START - timedelta(days=1), "改期", "session_outside_programme"),
    (2, END + timedelta(days=1), "改期", "session_outside_programme"),
])
def test_each_refusal(no: int, on: date, reason: str, code: str) -> None:
    programme = make_programme()
    with refused(programme, code):
        programme.reschedule_session(no, on, reason, PROVIDER, at(BEFORE), BEFORE)


def test_a_session_cannot_move_to_a_day_already_past() -> None:
    programme = make_programme(starts_on=date(2024, 3, 1), days=10, hours_per_day=8)  # 03-01 … 03-10
    today = date(2024, 3, 5)  # sessions 1–5 held; 6 on 03-06 not yet
    with refused(programme, "session_in_past"):
        programme.reschedule_session(6, date(2024, 3, 4), "改期", PROVIDER, at(today), today)
    programme.reschedule_session(6, today, "改到今天", PROVIDER, at(today), today)  # today itself: allowed
    assert programme.session(6)["on"] == today


def test_held_means_on_or_before_today() -> None:
    ensure_session_not_held({"no": 1, "on": date(2024, 3, 5)}, date(2024, 3, 4))
    for today in (date(2024, 3, 5), date(2024, 3, 6)):
        with pytest.raises(Exception) as caught:
            ensure_session_not_held({"no": 1, "on": date(2024, 3, 5)}, today)
        assert getattr(caught.value, "code", None) == "session_held"
