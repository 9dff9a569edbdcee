"""Followers heal: a database error (connections killed under PostgreSQL, SQLite's "database is
locked") costs a round, never the follower; the read model catches up again by itself. And on
PostgreSQL the follower applies a burst of writes in pages, not an event per transaction."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from projections.check import check
from projections.db import APPLICATION_NAME as READ_MODEL_APPLICATION_NAME
from projections.following import Backoff, Following
from projections.view import CatchUpThread
from service.app import TrainRec
from service.followers.follow import ListeningFollower, follow
from tests.conftest import ADMIN, Backend, Clock, build_county, postgres_url, require_postgres


def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        pause.wait(0.02)
    return True


class Writer(threading.Thread):
    """Registers teachers one after another until stopped, riding out errors of its own."""

    def __init__(self, app: TrainRec, tag: str) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.tag = tag
        self.stopping = threading.Event()
        self.written = 0
        self.errors: list[BaseException] = []

    def run(self) -> None:
        i = 0
        while not self.stopping.is_set():
            try:
                self.app.register_teacher(ADMIN, f"{self.tag}{i:05d}", "压测教师", "S1", date(2015, 9, 1),
                                          idempotency_key=f"{self.tag}{i}")
                i += 1
                self.written += 1
            except Exception as error:  # noqa: BLE001 - the writes are not under test here
                self.errors.append(error)
                self.stopping.wait(0.05)


@contextmanager
def writing(app: TrainRec, tag: str = "W") -> Iterator[Writer]:
    writer = Writer(app, tag)
    writer.start()
    try:
        yield writer
    finally:
        writer.stopping.set()
        writer.join(timeout=30)


def caught_up(app: TrainRec, follower: Following, timeout: float = 30.0) -> bool:
    """Whether the follower, by itself, brings the read model to the log's head and says its lag is 0."""
    head = app.read_model.head()
    return follower.wait(head, timeout) and eventually(lambda: follower.status().lag == 0, timeout)


def recovered_since(follower: Following, moment: datetime) -> bool:
    recovered_at = follower.status().recovered_at
    return recovered_at is not None and recovered_at >= moment


def kill(application_names: list[str]) -> int:
    """Terminate the PostgreSQL sessions of these application names; returns how many."""
    with psycopg.connect(postgres_url() or "", autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = ANY(%s) AND pid <> pg_backend_pid()",
                            (application_names,)).fetchall()
    return len(rows)


@pytest.mark.postgres
def test_the_listening_follower_heals_when_its_connections_are_killed_under_writes(
    tmp_path: Path, clock: Clock
) -> None:
    require_postgres()
    storage = Backend("postgres", tmp_path).fresh()
    app = TrainRec(storage, clock=clock)
    build_county(app)
    follower = follow(app)
    assert isinstance(follower, ListeningFollower)
    schema = storage.env["POSTGRES_SCHEMA"]
    assert follower.application_name == f"trainrec-follow:{schema}"
    ours = [follower.application_name, f"{READ_MODEL_APPLICATION_NAME}:{schema}"]
    try:
        with writing(app) as writer:
            for streak in (1, 2):  # the database "restarts" twice while the writes go on
                start = app.read_model.head()
                assert eventually(lambda start=start: writer.written > 20 and follower.status().position > start)
                before = follower.status().failures
                assert kill(ours) >= 1  # at least the LISTEN session
                assert eventually(lambda before=before: follower.status().failures > before)
                failed = follower.status()
                assert failed.last_error is not None
                assert failed.last_error_at is not None
                # it recovers by itself, the writes still going
                assert eventually(lambda failed_at=failed.last_error_at: recovered_since(follower, failed_at))
                assert follower.status().alive, streak
        status = follower.status()
        assert status.failures >= 2
        assert writer.written > 40
        assert caught_up(app, follower)  # nothing here applies events but the follower
        assert follower.status().alive
        assert check(app.read_model)[1] == []  # every event once, through the failures
    finally:
        follower.stop()
        app.close()


def test_the_sqlite_catch_up_thread_heals_after_an_error(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = TrainRec(Backend("sqlite", tmp_path).fresh(), clock=clock)
    build_county(app)
    model = app.read_model
    real = model.catch_up
    failing = threading.Event()

    def catch_up(**kwargs: Any) -> int:
        if failing.is_set():
            failing.clear()
            msg = "database is locked"
            raise sqlite3.OperationalError(msg)
        return real(**kwargs)

    monkeypatch.setattr(model, "catch_up", catch_up)
    follower = follow(app)
    assert isinstance(follower, CatchUpThread)
    try:
        with writing(app) as writer:
            assert eventually(lambda: writer.written > 10)
            failing.set()
            assert eventually(lambda: follower.status().failures == 1)
            assert eventually(lambda: follower.status().recovered_at is not None)
            assert eventually(lambda: writer.written > 30)
        status = follower.status()
        assert status.last_error == "OperationalError: database is locked"
        assert status.failures == 1
        assert caught_up(app, follower)
        assert follower.status().alive
        assert check(app.read_model)[1] == []
    finally:
        follower.stop()
        app.close()


@pytest.mark.postgres
def test_the_listening_follower_applies_a_burst_of_writes_in_pages(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_postgres()
    app = TrainRec(Backend("postgres", tmp_path).fresh(), clock=clock)
    build_county(app)
    app.enable_group_commit()  # as a server: concurrent commands share commits
    follower = follow(app)
    assert isinstance(follower, ListeningFollower)
    model = app.read_model
    real = model.projection.apply_page
    pages: list[int] = []  # events per transaction of the read model

    def apply_page(tx: Any, events: Any) -> None:
        page = list(events)
        pages.append(len(page))
        real(tx, page)

    monkeypatch.setattr(model.projection, "apply_page", apply_page)
    before = model.head()
    try:
        writers = [Writer(app, f"P{w}") for w in range(4)]
        for writer in writers:
            writer.start()
        assert eventually(lambda: sum(w.written for w in writers) >= 400)
        for writer in writers:
            writer.stopping.set()
        for writer in writers:
            writer.join(timeout=30)
        assert not any(w.errors for w in writers)
        assert caught_up(app, follower)
        written = model.head() - before
        assert sum(pages) == written  # every event applied once, by the follower
        assert len(pages) * 5 <= written, (len(pages), written)  # far fewer transactions than events
    finally:
        follower.stop()
        app.close()


def test_a_failed_round_is_retried_on_the_backoff_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    """The waits between failed rounds are the backoff's, hand-computed: 0.1, 0.2, 0.4 … 5 s."""
    waits: list[float] = []

    class Failing(Following):
        def follow(self) -> None:
            msg = "connection refused"
            raise OSError(msg)

    follower = Failing(object(), "test")

    def wait(delay: float) -> bool:
        waits.append(delay)
        if len(waits) == 8:
            follower.stopping.set()
        return follower.stopping.is_set()

    monkeypatch.setattr(follower.stopping, "wait", wait)
    follower.run()  # in this thread: returns once stopped
    assert waits == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])
    assert follower.status().failures == 8
    assert isinstance(follower.backoff, Backoff)


def test_a_failing_first_round_does_not_hold_up_the_start(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = TrainRec(Backend("sqlite", tmp_path).fresh(), clock=clock)
    build_county(app)
    model = app.read_model
    real = model.catch_up
    calls = []

    def catch_up(**kwargs: Any) -> int:
        calls.append(kwargs)
        if len(calls) == 1:
            msg = "database is locked"
            raise sqlite3.OperationalError(msg)
        return real(**kwargs)

    monkeypatch.setattr(model, "catch_up", catch_up)
    started = time.monotonic()
    follower = follow(app)  # what a server does at start-up
    try:
        assert time.monotonic() - started < 5
        assert follower.status().failures == 1
        assert isinstance(follower, Following)
        assert caught_up(app, follower)
        assert eventually(lambda: follower.status().recovered_at is not None)  # the round ends after its pages
    finally:
        follower.stop()
        app.close()
