"""The PostgreSQL event recorder, with COPY for large batches.

eventsourcing's recorder inserts a batch as one array of composite values, which psycopg
formats in Python (a regular expression per value): fine for a command's few events, the
slowest part of a bulk import. From `COPY_AT` events on, this recorder takes the same table
lock, then COPYs the rows and reads back the notification ids its rows were given: the lock
keeps every other writer out, so the ids above the maximum seen under the lock are exactly
this batch's, in the order of the rows. Smaller batches use eventsourcing's own path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

COPY_AT = 64  # events per batch

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
        if len(stored_events) < COPY_AT or self.datastore.enable_db_functions:
            inserted: Sequence[int] | None = self._insert_events_bounded(stored_events, **kwargs)
            return inserted
        copied: list[int] = self._copy_events(stored_events)
        return copied

    @once_more_after_a_broken_connection
    def _copy_events(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        table = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._lock_table(curs)
            self._notify_channel(curs)
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
