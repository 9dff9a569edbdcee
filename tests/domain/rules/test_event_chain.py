"""Every event names the actor that caused it and is chained to the one before it (domain/chained.py,
domain/canonical.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise

from eventsourcing.utils import get_topic

from domain.canonical import GENESIS, canonical_bytes, chain_digest
from domain.teacher import Teacher
from domain.vocabulary import Approver, Decision
from tests.domain.rules.builders import (
    ADMIN,
    PROVIDER,
    SCHOOL,
    START,
    SUPERVISOR,
    TRAINEE,
    assess,
    at,
    award,
    enrol,
    evaluate,
    make_programme,
    make_teacher,
    open_dispute,
    request_leave,
    resolve,
)


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
