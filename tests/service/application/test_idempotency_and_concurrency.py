"""Retried commands record nothing twice (across restarts too); concurrent writers lose nothing."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from domain.actor import Actor
from domain.errors import DomainError
from domain.ids import programme_uuid
from domain.programme import Programme
from domain.teacher import Teacher
from domain.vocabulary import AssessmentResult, Role
from service.app import TrainRec
from service.application.unit import Unit
from tests.conftest import ADMIN, SCHOOL_ADMIN, Backend, Clock, build_county, define
from tests.helpers import last_notification, refused


def test_same_key_and_body_replays_the_first_answer(county: TrainRec) -> None:
    define(county, "K1")
    first = county.enrol(SCHOOL_ADMIN, "K1", "A001", idempotency_key="req-1")
    before = last_notification(county)
    again = county.enrol(SCHOOL_ADMIN, "K1", "A001", idempotency_key="req-1")
    assert again.replayed is True
    assert again.status == first.status
    assert again.body == first.body
    assert last_notification(county) == before


def test_same_key_with_another_body_is_refused(county: TrainRec) -> None:
    define(county, "K1")
    county.enrol(SCHOOL_ADMIN, "K1", "A001", idempotency_key="req-2")
    with refused(county, "idempotency_key_reused"):
        county.enrol(SCHOOL_ADMIN, "K1", "A002", idempotency_key="req-2")


def test_keys_belong_to_their_subject(county: TrainRec) -> None:
    define(county, "K1")
    county.enrol(SCHOOL_ADMIN, "K1", "A001", idempotency_key="shared")
    assert county.enrol(ADMIN, "K1", "A002", idempotency_key="shared").replayed is False


def test_a_refused_command_stores_no_key(county: TrainRec) -> None:
    define(county, "K1")
    with refused(county, "forbidden_scope"):
        county.enrol(SCHOOL_ADMIN, "K1", "NOPE", idempotency_key="req-3")
    assert county.enrol(SCHOOL_ADMIN, "K1", "A001", idempotency_key="req-3").status == 201


def test_idempotency_survives_a_restart(durable_backend: Backend, clock: Clock) -> None:
    storage = durable_backend.fresh()
    first_app = TrainRec(storage, clock=clock)
    build_county(first_app)
    define(first_app, "K1")
    first = first_app.enrol(SCHOOL_ADMIN, "K1", "A001", idempotency_key="req-4")
    first_app.close()
    second_app = TrainRec(storage, clock=clock)
    before = last_notification(second_app)
    again = second_app.enrol(SCHOOL_ADMIN, "K1", "A001", idempotency_key="req-4")
    assert again.replayed is True
    assert again.body == first.body
    assert last_notification(second_app) == before
    second_app.close()


def test_two_concurrent_writers_to_one_teacher_lose_nothing(
    county: TrainRec, monkeypatch: pytest.MonkeyPatch
) -> None:
    define(county, "K1")
    define(county, "K2")
    barrier = threading.Barrier(2, timeout=10)
    loads: list[int] = []
    original = Unit.teacher

    def teacher_then_wait(self: Unit, teacher_no: str) -> Teacher:
        teacher = original(self, teacher_no)
        loads.append(teacher.version)
        if len(loads) <= 2:
            barrier.wait()  # both commands now hold the same version of the teacher
        return teacher

    monkeypatch.setattr(Unit, "teacher", teacher_then_wait)
    errors: list[BaseException] = []

    def enrol(code: str) -> None:
        try:
            county.enrol(SCHOOL_ADMIN, code, "A001")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=enrol, args=(code,)) for code in ("K1", "K2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(loads) == 3, "the loser should have been retried once on fresh state"
    history = county.teacher_history(ADMIN, "A001")
    assert sorted(h["data"]["programme"]["code"] for h in history if h["type"] == "Enrolled") == ["K1", "K2"]
    assert [h["version"] for h in history] == list(range(1, len(history) + 1))


def test_writer_that_keeps_losing_is_told(county: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    define(county, "K1")

    def always_conflict(*_: Any, **__: Any) -> Any:
        raise IntegrityError("simulated concurrent writer")

    monkeypatch.setattr(county, "save", always_conflict)
    with refused(county, "concurrent_update"):
        county.enrol(SCHOOL_ADMIN, "K1", "A001")


def test_transfer_date_is_a_local_date(county: TrainRec, clock: Clock) -> None:
    clock.set(date(2024, 3, 1), hour=1)  # 2024-02-29T17:00Z: already March 1st in Shanghai
    assert county.transfer_teacher(ADMIN, "A001", "S2", date(2024, 3, 1)).status == 201


def test_hours_written_otherwise_are_the_same_request(county: TrainRec, clock: Clock) -> None:
    """`24` and `24.0` hours under one key: the first answer again, nothing recorded."""
    define(county, "K1")
    county.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 7))
    county.assess(ADMIN, "K1", "A001", 4, 4, AssessmentResult.PASS)
    first = county.award_credit(ADMIN, "K1", "A001", Decimal("24"), idempotency_key="credit-1")
    before = last_notification(county)
    again = county.award_credit(ADMIN, "K1", "A001", Decimal("24.0"), idempotency_key="credit-1")
    assert (again.replayed, again.body) == (True, first.body)
    assert last_notification(county) == before


def test_a_key_replays_only_for_the_same_role_and_org(county: TrainRec) -> None:
    """The subject's key, sent under another role or org, is a different request."""
    define(county, "K1")
    county.enrol(Actor("same-person", Role.SCHOOL_ADMIN, org_id="S1"), "K1", "A001", idempotency_key="req-5")
    with refused(county, "idempotency_key_reused"):
        county.enrol(Actor("same-person", Role.SUPERVISOR, org_id="T1"), "K1", "A001", idempotency_key="req-5")


def test_two_concurrent_enrolments_cannot_both_take_the_last_seat(
    county: TrainRec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seat is counted on the programme, saved with the enrolment: of two enrolments that both
    read one seat free, the second to save runs again and finds the programme full."""
    define(county, "K1", capacity=1)
    barrier = threading.Barrier(2, timeout=10)
    loads: list[int] = []
    original = Unit.programme

    def programme_then_wait(self: Unit, code: str) -> Programme:
        programme = original(self, code)
        loads.append(len(programme.seats))
        if len(loads) <= 2:
            barrier.wait()  # both commands now see the last seat free
        return programme

    monkeypatch.setattr(Unit, "programme", programme_then_wait)
    outcomes: dict[str, Any] = {}

    def enrol(teacher_no: str) -> None:
        try:
            outcomes[teacher_no] = county.enrol(ADMIN, "K1", teacher_no).status
        except DomainError as error:
            outcomes[teacher_no] = error.code

    threads = [threading.Thread(target=enrol, args=(no,)) for no in ("A001", "A002")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes.values())) == ["201", "programme_full"]
    assert loads[:2] == [0, 0]
    assert len(county.load(Programme, programme_uuid("K1"), "", "").seats) == 1
