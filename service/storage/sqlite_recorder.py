"""The SQLite event recorder, with a bounded start for the committer.

eventsourcing's SQLite recorder waits for this process's one writer connection up to the pool's
timeout, then for the file's write lock up to `SQLITE_LOCK_TIMEOUT` (30 s) once its first insert
runs. A thread with a start bound (service/storage/start_bound.py: the server's committer) waits
for both within the bound (`BEGIN IMMEDIATE`: the lock is taken when the transaction starts); past
it, `Unavailable` (`store_unavailable`), nothing recorded. The inserts are eventsourcing's.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    ConnectionUnavailableError,
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.sqlite import SQLITE3_DEFAULT_LOCK_TIMEOUT, SQLiteApplicationRecorder

from service.storage.start_bound import not_started, start_bound


class BoundedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        bound = start_bound()
        if bound is None:
            return super().insert_events(stored_events, **kwargs)
        deadline = time.monotonic() + bound
        pool = self.datastore.pool
        try:
            conn = pool.get_connection(timeout=bound, is_writer=True)
        except ConnectionUnavailableError as error:
            raise not_started(bound, f"another write of this process holds the store: {error}") from error
        try:
            cursor = conn.cursor()
            wait = max(1, int((deadline - time.monotonic()) * 1000))
            usual = int((pool.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT) * 1000)
            try:
                cursor.execute(f"PRAGMA busy_timeout = {wait}")
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:  # "database is locked"
                raise not_started(bound, str(error)) from error
            finally:
                cursor.execute(f"PRAGMA busy_timeout = {usual}")
            try:
                ids = self._insert_events(cursor, stored_events, **kwargs)
                conn.commit()
            except sqlite3.Error as error:
                conn.rollback()
                raise _translated(error) from error
            except BaseException:
                conn.rollback()
                raise
            return ids
        finally:
            pool.put_connection(conn)


def _translated(error: sqlite3.Error) -> PersistenceError:
    """sqlite3's errors as eventsourcing's (as its SQLiteTransaction translates them)."""
    for theirs, ours in ((sqlite3.IntegrityError, IntegrityError), (sqlite3.InterfaceError, InterfaceError),
                         (sqlite3.OperationalError, OperationalError), (sqlite3.DatabaseError, DatabaseError)):
        if isinstance(error, theirs):
            return ours(error)
    return PersistenceError(error)
