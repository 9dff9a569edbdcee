"""Group commit: concurrent commands share transactions; each is answered alone and durably."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from domain.errors import DomainError
from domain.vocabulary import OrgKind
from service.app import TrainRec
from tests.conftest import ADMIN, Backend, Clock, build_county, define


def test_concurrent_commands_share_transactions_and_each_gets_its_answer(backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    build_county(app)
    committer = app.enable_group_commit()
    start = threading.Barrier(32, timeout=30)

    def register(i: int) -> tuple[int, str]:
        start.wait()
        result = app.register_teacher(ADMIN, f"G{i:03d}", f"教师{i}", "S1", date(2020, 9, 1))
        return result.status, result.body["events"][0]["teacher_no"]

    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(register, range(32)))
    assert answers == [(201, f"G{i:03d}") for i in range(32)]
    assert committer.stats.commands == 32
    assert committer.stats.transactions < 32, "some commands should have shared a transaction"
    registered = {h["teacher_no"] for h in app.audit_events(ADMIN, event_type="Registered", limit=1000)["events"]}
    assert {f"G{i:03d}" for i in range(32)} <= registered
    assert app.verify(ADMIN).ok
    app.close()


def test_commands_on_one_teacher_in_one_group_are_rerun_not_lost(backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    build_county(app)
    for i in range(12):
        define(app, f"K{i:02d}")
    app.enable_group_commit()
    start = threading.Barrier(12, timeout=30)

    def enrol(i: int) -> int:
        start.wait()
        return app.enrol(ADMIN, f"K{i:02d}", "A001").status

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(enrol, range(12)))
    assert statuses == [201] * 12
    history = app.teacher_history(ADMIN, "A001")
    assert sorted(h["data"]["programme"]["code"] for h in history if h["type"] == "Enrolled") == [
        f"K{i:02d}" for i in range(12)]
    assert [h["version"] for h in history] == list(range(1, len(history) + 1))
    app.close()


def test_a_refused_command_fails_alone_in_a_group(backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    build_county(app)
    app.enable_group_commit()
    start = threading.Barrier(8, timeout=30)

    def put(i: int) -> str:
        start.wait()
        try:
            parent = "T1" if i % 2 == 0 else "NOPE"
            return str(app.put_org(ADMIN, f"S9{i}", f"新学校{i}", OrgKind.SCHOOL, parent).status)
        except DomainError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(put, range(8)))
    assert outcomes == ["201", "org_not_found"] * 4
    app.close()


def test_one_teacher_number_registered_at_once_by_many_is_registered_once(backend: Backend, clock: Clock) -> None:
    """A registration's first attempt does not read whether the number is taken (the store's
    uniqueness of version 1 is the check); the same number sent by 16 requests at once, in one
    group or several, is registered once and every other request is refused as a duplicate."""
    app = TrainRec(backend.fresh(), clock=clock)
    build_county(app)
    app.enable_group_commit()
    before = app.recorder.max_notification_id()
    start = threading.Barrier(16, timeout=30)

    def register(i: int) -> str:
        start.wait()
        try:
            return str(app.register_teacher(ADMIN, "DUP1", f"教师{i}", "S1", date(2020, 9, 1)).status)
        except DomainError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = sorted(pool.map(register, range(16)))
    assert answers == ["201"] + ["teacher_exists"] * 15
    assert (app.recorder.max_notification_id() or 0) - (before or 0) == 1
    assert app.verify(ADMIN).ok
    app.close()
