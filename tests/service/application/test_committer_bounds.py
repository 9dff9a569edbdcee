"""The group committer's bounds (docs/write-path.md): a group runs submitted commands for a bounded
time, the rest wait for the next group; and a group whose transaction cannot start (the event table
locked, no connection to be had) fails its commands with 503 `store_unavailable` after a bound
instead of leaving them waiting, with nothing recorded."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from domain.errors import DomainError, NotFound, Unavailable
from domain.org import OrgUnit
from domain.vocabulary import OrgKind
from service.api.main import create_app
from service.app import TrainRec
from service.application.group_commit import MAX_GROUP_EVENTS, GroupCommitter
from service.application.unit import CommandResult
from service.storage.config import Storage, postgres_conninfo
from tests.conftest import ADMIN, Backend, Clock, build_county
from tests.service.api.conftest import SECRET, bearer

BOUND = 0.5


def _register(app: TrainRec, teacher_no: str, pause: float = 0.0) -> Callable[[], CommandResult]:
    def command() -> CommandResult:
        time.sleep(pause)
        return app.register_teacher(ADMIN, teacher_no, "教师", "S1", date(2020, 9, 1))
    return command


def test_a_group_stops_running_commands_once_they_took_its_time_and_the_rest_run_next(
        backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    build_county(app)
    committer = app.enable_group_commit()
    assert committer.group_seconds == 0.05
    gate, running = threading.Event(), threading.Event()

    def hold() -> bool:
        running.set()
        return gate.wait()

    blocker = committer.submit(hold)  # holds the committer while the others queue up
    assert running.wait(timeout=30)
    futures = [committer.submit(_register(app, f"G{i:03d}", pause=0.02)) for i in range(10)]
    gate.set()
    blocker.result(timeout=30)
    answers = [future.result(timeout=60) for future in futures]
    assert [a.body["teacher_no"] for a in answers] == [f"G{i:03d}" for i in range(10)]
    positions = [a.notification_id for a in answers]
    assert positions == sorted(positions), "the commands left for a later group kept their order"
    # 20 ms each and 50 ms a group: never more than three commands in a group, so four groups at least
    assert committer.stats.largest_group <= 3
    assert committer.stats.carried >= 7
    assert committer.stats.transactions >= 4
    app.close()


def test_events_that_would_take_a_group_past_its_bound_are_saved_in_the_next_group(
        backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    committer = app.enable_group_commit()
    assert MAX_GROUP_EVENTS == 1000
    batches = [[OrgUnit.register(f"X{b}{i:03d}", "承训机构", OrgKind.PROVIDER, None, ADMIN, clock()).collect_events()[0]
                for i in range(600)] for b in range(2)]
    gate, running = threading.Event(), threading.Event()

    def hold() -> bool:
        running.set()
        return gate.wait()

    blocker = committer.submit(hold)  # holds the committer while both calls queue up
    assert running.wait(timeout=30)
    saved: dict[int, list[int]] = {}

    def commit(b: int) -> None:
        saved[b] = [r.notification.id for r in committer.commit(batches[b])]

    threads = [threading.Thread(target=commit, args=(b,)) for b in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while committer._queue.qsize() < 2 and time.monotonic() < deadline:  # both calls queued
        time.sleep(0.01)
    before = committer.stats.transactions
    gate.set()
    blocker.result(timeout=30)
    for thread in threads:
        thread.join(timeout=60)
    # 600 + 600 events are over the bound: two transactions, one after the other, each whole
    assert committer.stats.transactions - before == 2
    assert committer.stats.carried >= 1
    first, second = sorted(saved.values())
    assert first == list(range(first[0], first[0] + 600))
    assert second == list(range(first[-1] + 1, first[-1] + 601))
    app.close()


class Blocker:
    """Another connection holding the store so that no write can start: the event table's lock
    (PostgreSQL) or the file's write lock (SQLite); or every connection of the app's pool."""

    def __init__(self, storage: Storage, app: TrainRec) -> None:
        self.storage = storage
        self.app = app

    @contextmanager
    def table_lock(self) -> Iterator[None]:
        if self.storage.backend == "sqlite":
            conn = sqlite3.connect(self.storage.env["SQLITE_DBNAME"], isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                conn.execute("ROLLBACK")
                conn.close()
            return
        with psycopg.connect(postgres_conninfo(self.storage.env)) as conn:
            conn.execute(f'LOCK TABLE "{self.storage.env["POSTGRES_SCHEMA"]}".trainrec_events IN EXCLUSIVE MODE')
            yield
            conn.rollback()

    @contextmanager
    def every_connection(self) -> Iterator[None]:
        """SQLite: this process's one writer connection; PostgreSQL: every connection of the pool."""
        datastore: Any = self.app.recorder.datastore  # type: ignore[attr-defined]
        if self.storage.backend == "sqlite":
            conn = datastore.pool.get_connection(is_writer=True)
            try:
                yield
            finally:
                datastore.pool.put_connection(conn)
            return
        pool = datastore.pool
        held = [pool.getconn(timeout=10) for _ in range(pool.max_size)]
        try:
            yield
        finally:
            for conn in held:
                pool.putconn(conn)


@pytest.fixture
def bounded(durable_backend: Backend, clock: Clock) -> Iterator[tuple[TrainRec, GroupCommitter, Blocker]]:
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    build_county(app)
    committer = app.enable_group_commit()
    committer.start_bound = BOUND
    yield app, committer, Blocker(storage, app)
    app.close()


def _refusal(call: Callable[[], Any]) -> tuple[DomainError, float]:
    started = time.perf_counter()
    with pytest.raises(DomainError) as refused:
        call()
    return refused.value, time.perf_counter() - started


@pytest.mark.parametrize("hold", ["table_lock", "every_connection"])
def test_a_group_that_cannot_start_its_transaction_fails_after_the_bound_with_nothing_recorded(
        bounded: tuple[TrainRec, GroupCommitter, Blocker], hold: str) -> None:
    app, committer, blocker = bounded
    assert GroupCommitter(app).start_bound == 2.0  # the default (closed at once below)
    with getattr(blocker, hold)():
        # a command the committer runs (an HTTP write) and one whose events a thread hands it
        submitted, waited = _refusal(lambda: committer.submit(_register(app, "U001")).result(timeout=60))
        handed, handed_wait = _refusal(lambda: _register(app, "U002")())
    for error, seconds in ((submitted, waited), (handed, handed_wait)):
        assert isinstance(error, Unavailable)
        assert error.code == "store_unavailable"
        assert BOUND <= seconds < BOUND + 10  # it waited the bound, then gave up (not 30 s × 10 attempts)
    for teacher_no in ("U001", "U002"):
        with pytest.raises(NotFound):
            app.teacher_history(ADMIN, teacher_no)
    # the store back: the same writes go through
    assert committer.submit(_register(app, "U001")).result(timeout=60).status == 201
    assert _register(app, "U002")().status == 201


def test_a_locked_store_answers_503_store_unavailable_over_http(
        bounded: tuple[TrainRec, GroupCommitter, Blocker]) -> None:
    app, _, blocker = bounded
    client = TestClient(create_app(app, SECRET, catch_up=False), raise_server_exceptions=False)
    body = {"teacher_no": "U003", "name": "教师", "school_id": "S1"}
    with blocker.table_lock():
        response = client.post("/api/v1/teachers", json=body, headers=bearer(ADMIN))
    assert response.status_code == 503
    assert response.json()["code"] == "store_unavailable"
    assert client.post("/api/v1/teachers", json=body, headers=bearer(ADMIN)).status_code == 201
