"""Locks that hold across processes sharing one store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from projections.db import file_lock
from service.storage.config import Storage, postgres_conninfo


@contextmanager
def one_at_a_time(storage: Storage, name: str) -> Iterator[None]:
    """Run the block in one process at a time: a session advisory lock (per schema) on PostgreSQL,
    an OS file lock beside the SQLite file. eventsourcing creates its tables (IF NOT EXISTS) whenever
    an application is constructed, and two processes doing it at once (server workers starting
    together) fail: "tuple concurrently updated" on PostgreSQL, "database is locked" on SQLite
    (switching the file to WAL does not wait for other connections)."""
    path = storage.sqlite_path
    if path is not None:
        with file_lock(f"{path}.{name}.lock"):
            yield
        return
    if storage.backend != "postgres":
        yield
        return
    key = f"trainrec:{name}:{storage.env.get('POSTGRES_SCHEMA') or 'public'}"
    with psycopg.connect(postgres_conninfo(storage.env), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
