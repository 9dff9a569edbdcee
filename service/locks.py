"""Locks that hold across processes sharing one store."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from service.config import Storage, postgres_conninfo


@contextmanager
def file_lock(path: str) -> Iterator[None]:
    """An OS lock on the file `path` (created if missing) for the block: other processes wait."""
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
