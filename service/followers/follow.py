"""Keeping the read model live while writes arrive.

- SQLite (its module has no subscriptions): a thread polls the log and applies what is new
  (`projections.view.CatchUpThread`).
- PostgreSQL, in a server process (the default) and in `trainrec projections follow` (for servers
  run with TRAINREC_PROJECTOR=separate): `ListeningFollower` LISTENs on the event table's channel
  and, woken by a notification, applies everything recorded since in pages: one transaction per
  page with its tracking position, as a rebuild does (`ReadModel.catch_up`). Notifications that
  arrive within `GATHER` seconds of a round's start are taken by the next round together, so
  under a burst of writes a round applies the events of many commits at once, and the follower
  makes at most 1 / GATHER rounds a second however many commits there are. A separate process
  serves any number of server workers, and its work does not share their interpreter lock.

eventsourcing's `ProjectionRunner` (service/followers/pg_runner.py), which applies each event in a
transaction of its own, is no longer what a server runs: at a few hundred events a second it fell
behind, and it did not survive a restart of the database. It stays as an eventsourcing-native way
to follow the same tables (tested beside the others), used by nothing in the service.

After each round the follower also extends the transparency log's tree and signs a checkpoint when
one is due (service/transparency/log.py; `TRAINREC_TLOG_UPKEEP=0` leaves that to the reads that need
it), outside any command's transaction.

Every way applies an event once: they all lock and re-read the one tracking row (projections.view).
Every follower survives database errors: it retries on a backoff schedule, reconnecting, and
tells how it is doing through `status()` (projections/following.py).
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Protocol

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from projections.db import PostgresDB
from projections.following import FollowerStatus, Following
from projections.view import CatchUpThread, ReadModel
from service.app import TrainRec
from service.storage.config import postgres_conninfo

WAKE_AT_LEAST_EVERY = 1.0  # seconds: a missed notification (a dropped connection) delays, never loses
GATHER = 0.05  # seconds: the shortest time from one round's start to the next's
APPLICATION_NAME = "trainrec-follow"  # the LISTEN connection's, followed by ":" and the store's schema
READY_WITHIN = 600.0  # seconds `follow` waits for the backlog to be applied (or a round to fail) before it returns

__all__ = ["APPLICATION_NAME", "Follower", "FollowerStatus", "ListeningFollower", "follow"]


class Follower(Protocol):
    def status(self) -> FollowerStatus: ...

    def stop(self) -> None: ...


class ListeningFollower(Following):
    """Page-at-a-time catch-up, woken by the event table's NOTIFY (PostgreSQL)."""

    def __init__(self, model: ReadModel, recorder: PostgresApplicationRecorder, conninfo: str,
                 gather: float = GATHER) -> None:
        super().__init__(model, "trainrec-follow")
        self.recorder = recorder
        self.conninfo = conninfo
        self.channel = recorder.channel_name
        self.gather = gather
        self.application_name = f"{APPLICATION_NAME}:{recorder.datastore.schema}"[:63]

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            self.conninfo, autocommit=True, application_name=self.application_name, connect_timeout=10,
            # a peer gone without a word (a network cut) is noticed within about a minute
            keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3,
        )

    def follow(self) -> None:
        with self.connect() as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            while not self.stopping.is_set():
                # what was recorded before LISTEN, or while the last round ran
                started = time.monotonic()
                self.round()
                rest = started + self.gather - time.monotonic()
                if rest > 0:
                    self.stopping.wait(rest)  # what is notified meanwhile is taken by one round
                for _ in conn.notifies(timeout=WAKE_AT_LEAST_EVERY, stop_after=1):
                    pass
                for _ in conn.notifies(timeout=0):
                    pass  # those queued behind it: the next round reads up to the head anyway

    def failed(self, error: BaseException) -> None:
        """The database may have restarted: drop the broken connections the pools keep idle (each
        would fail once more), so the next round gets working ones."""
        if isinstance(self.model.db, PostgresDB):
            self.model.db.pool.check()
        self.recorder.datastore.pool.check()

    def wake(self) -> None:
        with contextlib.suppress(psycopg.Error), psycopg.connect(self.conninfo, autocommit=True,
                                                                 connect_timeout=5) as conn:
            conn.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(self.channel)))


def follow(app: TrainRec) -> Follower:
    """Bring `app`'s read model up to the log, then keep it there, through database errors, until
    `stop()`. Returns once the backlog is applied, or a round failed (a server starts all the same:
    its reads catch up themselves, and the follower retries), or after READY_WITHIN seconds."""
    follower: Following
    if app.storage.backend == "postgres":
        recorder = app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        follower = ListeningFollower(app.read_model, recorder, postgres_conninfo(app.storage.env))
    else:
        follower = CatchUpThread(app.read_model)
    if os.environ.get("TRAINREC_TLOG_UPKEEP", "1") != "0":  # 0: the tree is extended on demand only
        follower.after_round.append(app.transparency.upkeep)
    follower.start()
    follower.settled.wait(timeout=READY_WITHIN)  # a long backlog is applied before the process says it follows
    return follower
