"""Attendance marks, their corrections, and the sessions that can be marked (domain/rules/attendance.py)."""

from __future__ import annotations

import pytest

from domain.errors import DomainError
from domain.ids import event_id
from domain.rules.attendance import ensure_session_held
from tests.domain.rules.builders import (
    END,
    PROVIDER,
    START,
    at,
    enrolled,
    last_event,
    make_programme,
    make_teacher,
    on_leave,
    refused,
    request_leave,
)


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
