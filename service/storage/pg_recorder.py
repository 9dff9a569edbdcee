"""The PostgreSQL event recorder, with COPY for large batches and a bounded start for the committer.

eventsourcing's recorder inserts a batch as one array of composite values, which psycopg
formats in Python (a regular expression per value): fine for a command's few events, the
slowest part of a bulk import. From `COPY_AT` events on, this recorder takes the same table
lock, then COPYs the rows and reads back the notification ids its rows were given: the lock
keeps every other writer out, so the ids above the maximum seen under the lock are exactly
this batch's, in the order of the rows. Smaller batches use eventsourcing's own path.

A thread with a start bound (service/storage/start_bound.py: the server's committer) waits at most
that long for its transaction to start: for a pooled connection (PostgreSQL down: the pool cannot
make one) and for the event table's lock (`lock_timeout`, someone else holding it), retrying
within the bound; past it, `Unavailable` (`store_unavailable`), nothing recorded. eventsourcing's
own path would wait up to the pool's timeout and `POSTGRES_LOCK_TIMEOUT` (30 s) per attempt, ten
attempts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import psycopg
import psycopg_pool
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier, Literal
from psycopg.types.composite import register_composite

from service.storage.start_bound import not_started, start_bound

COPY_AT = 64  # events per batch
RETRY_WAIT = 0.05  # seconds between attempts to start a bounded transaction

F = TypeVar("F", bound=Callable[..., Any])


def once_more_after_a_broken_connection(method: F) -> F:
    """eventsourcing retries each read and write up to 10 times, 0.2 s apart, each try waiting for a
    pooled connection: with the store down, a request then hangs for tens of seconds. Here a call is
    tried again once, at once, and only when its connection broke (a pooled connection that a
    database restart closed); when the pool has no connection to give within its wait (the store is
    down), the error goes straight back, and the request answers 503 (docs/operations.md)."""
    inner = getattr(method, "__wrapped__", method)  # eventsourcing's body, without its retry loop

    @wraps(inner)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        try:
            return inner(*args, **kwargs)
        except (InterfaceError, OperationalError) as error:
            if isinstance(error.__cause__, psycopg_pool.PoolTimeout):
                raise
            return inner(*args, **kwargs)

    return bounded  # type: ignore[return-value]


class CopyingApplicationRecorder(PostgresApplicationRecorder):
    select_events = once_more_after_a_broken_connection(PostgresAggregateRecorder.select_events)
    select_notifications = once_more_after_a_broken_connection(PostgresApplicationRecorder.select_notifications)
    max_notification_id = once_more_after_a_broken_connection(PostgresApplicationRecorder.max_notification_id)
    _insert_events_bounded = once_more_after_a_broken_connection(PostgresApplicationRecorder.insert_events)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        bound = start_bound()
        if bound is not None and not self.datastore.enable_db_functions:
            return self._insert_within(stored_events, bound)
        if len(stored_events) < COPY_AT or self.datastore.enable_db_functions:
            inserted: Sequence[int] | None = self._insert_events_bounded(stored_events, **kwargs)
            return inserted
        copied: list[int] = self._copy_events(stored_events)
        return copied

    @once_more_after_a_broken_connection
    def _copy_events(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._lock_table(curs)
            self._notify_channel(curs)
            return self._copy_rows(curs, stored_events)

    def _copy_rows(self, curs: Any, stored_events: Sequence[StoredEvent]) -> list[int]:
        """COPY the events (the table locked by this transaction) and read back their ids."""
        table = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        curs.execute(SQL("SELECT COALESCE(MAX(notification_id), 0) AS top FROM {0}").format(table))
        row = curs.fetchone()
        assert row is not None
        before = row["top"]
        statement = SQL("COPY {0} (originator_id, originator_version, topic, state) FROM STDIN").format(table)
        with curs.copy(statement) as copy:
            for event in stored_events:
                copy.write_row((event.originator_id, event.originator_version, event.topic, event.state))
        curs.execute(
            SQL("SELECT notification_id FROM {0} WHERE notification_id > %s ORDER BY notification_id").format(
                table), (before,))
        ids = [int(r["notification_id"]) for r in curs.fetchall()]
        if len(ids) != len(stored_events):  # raised inside the transaction: nothing is committed
            msg = f"copied {len(stored_events)} events but found {len(ids)} new notification ids"
            raise ProgrammingError(msg)
        return ids

    # --- bounded start ---------------------------------------------------------------------
    def _insert_within(self, stored_events: Sequence[StoredEvent], bound: float) -> Sequence[int]:
        """Insert in one transaction that starts (connection, table lock) within `bound` seconds."""
        deadline = time.monotonic() + bound
        table = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        while True:
            started = False
            try:
                with self._connection_until(deadline) as conn, conn.transaction(), conn.cursor() as curs:
                    wait = max(1, int((deadline - time.monotonic()) * 1000))
                    # one round trip (no parameters: the simple protocol runs the three in turn)
                    curs.execute(SQL("SET LOCAL lock_timeout = {0}; LOCK TABLE {1} IN EXCLUSIVE MODE; "
                                     "NOTIFY {2}").format(Literal(f"{wait}ms"), table, Identifier(self.channel_name)))
                    started = True
                    if len(stored_events) >= COPY_AT:
                        return self._copy_rows(curs, stored_events)
                    PostgresAggregateRecorder._insert_stored_events(self, curs, stored_events)
                    ids = self._fetch_ids_after_insert_events(curs, stored_events)
                    return list(ids or [])
            except (InterfaceError, OperationalError) as error:
                if started:  # the transaction ran: its failure is not a wait
                    raise
                if time.monotonic() + RETRY_WAIT >= deadline:
                    raise not_started(bound, str(error)) from error
                time.sleep(RETRY_WAIT)

    @contextmanager
    def _connection_until(self, deadline: float) -> Iterator[Any]:
        """A pooled connection, waited for until `deadline` at most (eventsourcing's
        `get_connection` waits the pool's whole timeout), psycopg's errors as eventsourcing's."""
        datastore = self.datastore
        try:
            datastore.pool.open()
            with datastore.pool.connection(timeout=max(0.001, deadline - time.monotonic())) as conn:
                for info in datastore.psycopg_type_adapters.values():
                    if not conn.adapters.types.get(info.oid):
                        register_composite(info, conn)
                yield conn
        except psycopg.IntegrityError as error:
            raise IntegrityError(str(error)) from error
        except psycopg.InterfaceError as error:
            raise InterfaceError(str(error)) from error
        except psycopg.OperationalError as error:  # the pool's timeout too
            raise OperationalError(str(error)) from error
        except psycopg.Error as error:
            raise PersistenceError(str(error)) from error
