"""Keeping the read model live while writes arrive.

- SQLite (its module has no subscriptions): a thread polls the log and applies what is new.
- PostgreSQL, in a server process (the default): eventsourcing's ProjectionRunner, which applies
  each event in a transaction of its own as its notification arrives (service/followers/pg_runner.py).
- PostgreSQL, `trainrec projections follow` (servers run with TRAINREC_PROJECTOR=separate): a
  process of its own LISTENs on the event table's channel and, woken by a notification, applies
  everything recorded since in pages (one transaction per page, as a rebuild does). Under a burst
  of writes that is one transaction per few hundred events rather than per event; one follower
  serves any number of server workers, and its work does not share the servers' interpreter lock.

Every way applies an event once: they all lock and re-read the one tracking row (projections.view).
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from projections.view import CatchUpThread, ReadModel
from service.app import TrainRec
from service.storage.config import postgres_conninfo

WAKE_AT_LEAST_EVERY = 1.0  # seconds: a missed notification (a dropped connection) delays, never loses


class Follower(Protocol):
    error: BaseException | None

    def stop(self) -> None: ...


class _Runner:
    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.error: BaseException | None = None

    def stop(self) -> None:
        self.runner.stop()


class ListeningFollower(threading.Thread):
    """Page-at-a-time catch-up, woken by the event table's NOTIFY (PostgreSQL)."""

    def __init__(self, model: ReadModel, conninfo: str, channel: str) -> None:
        super().__init__(name="trainrec-follow", daemon=True)
        self.model = model
        self.conninfo = conninfo
        self.channel = channel
        self.stopping = threading.Event()
        self.ready = threading.Event()  # listening, and caught up once
        self.error: BaseException | None = None
        self.position = 0  # the last position this follower brought the read model to
        self._applied = threading.Condition()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    while not self.stopping.is_set():
                        # what was recorded before LISTEN, or while the last pages were applied
                        position = self.model.catch_up()
                        with self._applied:
                            self.position = position
                            self._applied.notify_all()
                        self.model.refresh_compliance()  # between pages: reads then find fresh rows
                        self.ready.set()
                        for _ in conn.notifies(timeout=WAKE_AT_LEAST_EVERY, stop_after=1):
                            pass
            except Exception as error:  # noqa: BLE001 - kept for the operator, then retried
                self.error = error
                self.stopping.wait(WAKE_AT_LEAST_EVERY)

    def wait(self, position: int, timeout: float) -> bool:
        """Whether this follower brought the read model to `position` within `timeout` seconds."""
        with self._applied:
            return self._applied.wait_for(lambda: self.position >= position, timeout)

    def stop(self) -> None:
        self.stopping.set()
        try:  # wake it now rather than at its next periodic wake-up
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                conn.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(self.channel)))
        except psycopg.Error:
            pass  # it stops at its next wake-up
        self.join(timeout=10)


def follow(app: TrainRec, *, listen: bool = False) -> Follower:
    """Bring `app`'s read model up to the log, then keep it there until `stop()`. On PostgreSQL,
    `listen` chooses the LISTEN-and-page follower over eventsourcing's ProjectionRunner."""
    if app.storage.backend == "postgres" and listen:
        recorder = app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        follower = ListeningFollower(app.read_model, postgres_conninfo(app.storage.env), recorder.channel_name)
        follower.start()
        follower.ready.wait(timeout=600)  # a long backlog is applied before the process says it follows
        return follower
    if app.storage.backend == "postgres":
        from service.followers.pg_runner import start_runner

        app.read_model.catch_up()  # the runner then follows the notifications live
        return _Runner(start_runner(app))
    app.read_model.catch_up()
    worker = CatchUpThread(app.read_model)
    worker.start()
    return worker
