"""Group commit: concurrent commands share transactions; each is answered alone and durably."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import date
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

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


# --- commands submitted to the committer (the HTTP server's writes) -----------------------------------
def held_group(app: TrainRec) -> tuple[threading.Event, Future[Any]]:
    """Occupy the committer until the returned gate is set, so that what is submitted meanwhile
    is run as one group."""
    gate = threading.Event()
    committer = app.group_committer
    assert committer is not None
    return gate, committer.submit(lambda: gate.wait(30) and None)


def outcome(future: Future[Any]) -> tuple[int, int | None] | str:
    try:
        result = future.result(timeout=30)
    except DomainError as error:
        return error.code
    return result.status, result.notification_id


def test_submitted_commands_run_as_one_group_each_answered_alone(backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    build_county(app)
    define(app, "K1")
    committer = app.enable_group_commit()
    gate, holder = held_group(app)
    futures = [committer.submit(lambda i=i: app.register_teacher(ADMIN, f"G{i:02d}", f"教师{i}", "S1"))
               for i in range(10)]
    refused = committer.submit(lambda: app.register_teacher(ADMIN, "G99", "无校", "S404"))
    # two commands on one teacher in the group: the second runs on the state the first left
    first = committer.submit(lambda: app.enrol(ADMIN, "K1", "A001"))
    again = committer.submit(lambda: app.enrol(ADMIN, "K1", "A001"))
    transactions = committer.stats.transactions
    gate.set()
    assert holder.result(timeout=30) is None
    answers = [outcome(f) for f in futures]
    assert outcome(refused) == "org_not_found"
    assert outcome(again) == "already_enrolled"
    enrolled = outcome(first)
    assert committer.stats.transactions == transactions + 1  # the group: one transaction
    positions = [a[1] for a in answers if isinstance(a, tuple)]
    assert [a[0] for a in answers if isinstance(a, tuple)] == [201] * 10
    assert isinstance(enrolled, tuple)
    assert positions == sorted(positions)
    assert len(set(positions)) == 10
    assert enrolled[1] == app.recorder.max_notification_id()
    registered = {e["teacher_no"] for e in app.audit_events(ADMIN, event_type="Registered", limit=1000)["events"]}
    assert {f"G{i:02d}" for i in range(10)} <= registered
    assert "G99" not in registered
    assert app.verify(ADMIN).ok
    app.close()


def submit_group_with_a_taken_number(app: TrainRec) -> tuple[list[Future[Any]], list[Future[Any]]]:
    """Registrations in one group, one of a number registered already (A001), and one sent twice
    under one idempotency key."""
    committer = app.group_committer
    assert committer is not None
    gate, holder = held_group(app)
    futures = [committer.submit(lambda n=n: app.register_teacher(ADMIN, n, "教师", "S1"))
               for n in ("N01", "A001", "N02", "N03")]
    keyed = [committer.submit(lambda: app.register_teacher(ADMIN, "N04", "教师", "S1", idempotency_key="k-1"))
             for _ in range(2)]
    gate.set()
    holder.result(timeout=30)
    return futures, keyed


def assert_only_the_duplicate_refused(app: TrainRec, futures: list[Future[Any]], keyed: list[Future[Any]],
                                      before: int) -> None:
    answers = [outcome(f) for f in futures]
    assert answers[1] == "teacher_exists"
    accepted = [a for a in (answers[0], answers[2], answers[3]) if isinstance(a, tuple)]
    assert [a[0] for a in accepted] == [201, 201, 201]
    positions = [a[1] for a in accepted]
    assert all(isinstance(p, int) and p > before for p in positions)
    assert positions == sorted(set(positions))  # each its own position, in the order they ran
    first, second = (f.result(timeout=30) for f in keyed)
    assert (first.status, first.replayed, second.status, second.replayed) == (201, False, 201, True)
    # N01, N02, N03, N04 and N04's idempotency record; nothing of the refused one (PostgreSQL's
    # ids have a gap where the failed group's transaction took some)
    assert len(app.recorder.select_notifications(start=before + 1, limit=100)) == 5
    assert app.verify(ADMIN).ok


def test_a_group_with_a_taken_number_is_run_again_as_one_group_that_reads_first(
        backend: Backend, clock: Clock) -> None:
    """A registration does not read whether its number is taken; a taken one makes the group's
    save fail, and the group runs once more as one batch whose registrations read first: only the
    duplicate is refused, in one more transaction (not one per command of the group)."""
    app = TrainRec(backend.fresh(), clock=clock)
    build_county(app)
    committer = app.enable_group_commit()
    before = app.recorder.max_notification_id() or 0
    transactions = committer.stats.transactions
    futures, keyed = submit_group_with_a_taken_number(app)
    assert_only_the_duplicate_refused(app, futures, keyed, before)
    assert committer.stats.failed_group_saves == 1
    assert committer.stats.transactions == transactions + 1  # the group's second, reading, batch
    app.close()


def test_a_group_that_fails_twice_is_run_command_by_command(
        backend: Backend, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the reading batch fails too (another process took an id between the read and the save),
    each command of the group runs alone."""
    app = TrainRec(backend.fresh(), clock=clock)
    build_county(app)
    committer = app.enable_group_commit()
    before = app.recorder.max_notification_id() or 0
    batched = app.batched

    @contextmanager
    def another_writer_in_between(**options: Any) -> Iterator[Any]:
        with batched(**options) as batch:
            yield batch
            if not options.get("optimistic") and batch.events:
                raise IntegrityError("another writer took an id")  # as the save would

    monkeypatch.setattr(app, "batched", another_writer_in_between)
    futures, keyed = submit_group_with_a_taken_number(app)
    assert_only_the_duplicate_refused(app, futures, keyed, before)
    assert committer.stats.failed_group_saves == 2  # the optimistic batch and the reading one
    app.close()


def test_a_command_whose_request_went_away_is_not_run_and_the_others_are_answered(
        backend: Backend, clock: Clock) -> None:
    """A request cancelled before its group ran (the client disconnected) records nothing; the
    rest of the group is saved and answered as usual."""
    app = TrainRec(backend.fresh(), clock=clock)
    build_county(app)
    committer = app.enable_group_commit()
    gate, holder = held_group(app)
    gone = committer.submit(lambda: app.register_teacher(ADMIN, "N00", "教师", "S1"))
    stays = [committer.submit(lambda n=n: app.register_teacher(ADMIN, n, "教师", "S1")) for n in ("N01", "N02")]
    assert gone.cancel()
    gate.set()
    holder.result(timeout=30)
    answers = [outcome(f) for f in stays]
    assert [a[0] for a in answers if isinstance(a, tuple)] == [201, 201]
    registered = {e["teacher_no"] for e in app.audit_events(ADMIN, event_type="Registered", limit=1000)["events"]}
    assert {"N01", "N02"} <= registered
    assert "N00" not in registered
    app.close()


class Fault(BaseException):
    """Not a command's own refusal: something the committer did not expect."""


def raise_fault() -> None:
    raise Fault


def test_the_committer_outlives_a_fault_and_answers_every_waiting_command(backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    build_county(app)
    committer = app.enable_group_commit()
    gate, holder = held_group(app)
    faulty = committer.submit(raise_fault)
    innocent = committer.submit(lambda: app.register_teacher(ADMIN, "N01", "教师", "S1"))
    gate.set()
    for future in (faulty, innocent):  # the group was not saved: each is told so, none left waiting
        with pytest.raises(Fault):
            future.result(timeout=30)
    # The holder ran in that group, or alone before it if the committer woke before the others were
    # queued (a slow machine): either way it is answered.
    with suppress(Fault):
        holder.result(timeout=30)
    later = committer.submit(lambda: app.register_teacher(ADMIN, "N01", "教师", "S1")).result(timeout=30)
    assert later.status == 201  # the committer still runs, and nothing of the failed group was kept
    app.close()


def test_group_sizes_are_counted_in_power_of_two_buckets() -> None:
    from service.application.group_commit import GroupStats

    stats = GroupStats()
    for size in (1, 1, 2, 3, 4, 5, 256, 257):
        stats.record_group(size)
    assert stats.commands == 529
    assert stats.largest_group == 257
    assert {k: v for k, v in stats.group_sizes.items() if v} == {1: 2, 2: 1, 4: 2, 8: 1, 256: 1, float("inf"): 1}
