"""A small SQL layer for read-model tables, the same statements on SQLite and PostgreSQL.

Statements are written with `?` placeholders; PostgreSQL gets them as `%s`. Read-model
tables live beside the events: in the SQLite file, or in the events' PostgreSQL schema.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from psycopg_pool import ConnectionPool

Row = tuple[Any, ...]


@dataclass(frozen=True)
class StoreLocation:
    """Where a store's read-model tables live, as the process that opened the store describes it."""

    backend: str  # "memory", "sqlite" or "postgres"
    sqlite_path: str = ""  # sqlite: the events' file
    conninfo: str = ""  # postgres: a libpq connection string
    schema: str = "public"  # postgres: the events' schema
    wait: float = 30.0  # postgres: seconds a read or write waits for a pooled connection before failing

    @property
    def reconnect_window(self) -> float:
        """Seconds a pool keeps retrying a lost connection (1 s, then 2 s, 4 s... apart) before it
        lets it go; the next request then connects at once. psycopg_pool's default (5 minutes)
        lets the gaps grow with an outage: after 20 s away, the next try came 10 s after the
        store's return, and every write meanwhile waited for a connection in vain."""
        return max(2.0, 2 * self.wait)


@contextmanager
def file_lock(path: str) -> Iterator[None]:
    """An OS lock on the file `path` (created if missing) for the block: other processes wait."""
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

LIKE_ESCAPE = "ESCAPE '!'"


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with `prefix`, its `%` and `_` taken literally."""
    escaped = prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"{escaped}%"


class Tx(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def copy(self, table: str, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows at once (COPY on PostgreSQL)."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class ReadModelDB(Protocol):
    backend: str
    prefix: str

    def transaction(self) -> Any: ...

    def snapshot(self) -> Any:
        """A context giving a `Tx` whose reads all see one state of the tables (no writes)."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def exclusive(self, name: str) -> Any:
        """A context holding a lock named `name` across every process using this store."""
        ...

    def close(self) -> None: ...


class _SQLiteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, [tuple(r) for r in rows])

    def copy(self, table: str, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        marks = ", ".join("?" * len(names))
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self.conn.execute(sql, tuple(params)).fetchall())


class SQLiteDB:
    """One writer connection (serialised by a lock) and per-thread reader connections."""

    backend = "sqlite"

    def __init__(self, path: str, prefix: str = "") -> None:
        self.path = path
        self.prefix = prefix
        self._memory = path == ":memory:"
        self._lock = threading.RLock()
        self._named: dict[str, threading.Lock] = {}  # `exclusive` in memory (one process)
        self._naming = threading.Lock()  # guards `_named` only
        self._writer = self._connect()
        self._local = threading.local()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        # LIKE as on PostgreSQL: org ids are case-sensitive, and the units under an org are found by
        # path prefix (SQLite's default LIKE ignores ASCII case: "c1" would take in "C1"'s schools)
        conn.execute("PRAGMA case_sensitive_like = ON")
        if not self._memory:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[_SQLiteTx]:
        with self._lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteTx(self._writer)
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if self._memory:
            with self._lock:
                return list(self._writer.execute(sql, tuple(params)).fetchall())
        return list(self._reader().execute(sql, tuple(params)).fetchall())

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def snapshot(self) -> Iterator[_SQLiteTx]:
        """Reads in one transaction of this thread's reader (WAL: one snapshot from its first read);
        in memory, the one connection held for the whole sequence."""
        if self._memory:
            with self._lock:
                yield _SQLiteTx(self._writer)
            return
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            yield _SQLiteTx(conn)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """In memory the store lives in this process only: a lock of its own per name, never the
        writer's lock (a rebuild holds this one while it waits for the model's lock, which the
        catch-up thread holds while it waits for the writer's: sharing them deadlocked)."""
        if self._memory:
            with self._naming:
                lock = self._named.setdefault(name, threading.Lock())
            with lock:
                yield
            return
        with file_lock(f"{self.path}.{name}.lock"):
            yield

    def close(self) -> None:
        self._writer.close()


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class PostgresTx:
    """Statements of one transaction on a psycopg cursor (ours, or one of eventsourcing's)."""

    def __init__(self, cursor: Any, prepare: bool | None = None) -> None:
        self.cursor = cursor
        self.prepare = prepare  # None: psycopg's default (prepared after a few runs); reads: False (see query)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(_pg(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:  # psycopg pipelines the batch itself
            self.cursor.executemany(_pg(sql), [tuple(r) for r in rows])

    def copy(self, table: str, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with self.cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.cursor.execute(_pg(sql), tuple(params), prepare=self.prepare)
        # eventsourcing's own connections return dict rows; ours return tuples
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in self.cursor.fetchall()]


APPLICATION_NAME = "trainrec-read-model"  # of the read model's PostgreSQL sessions, followed by ":" and the schema


class PostgresDB:
    backend = "postgres"

    def __init__(self, conninfo: str, schema: str = "public", prefix: str = "", wait: float = 30.0) -> None:
        self.prefix = prefix
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=8,
            timeout=wait,  # a store that does not answer fails a read within this, rather than hanging it
            reconnect_timeout=max(2.0, 2 * wait),  # StoreLocation.reconnect_window
            # Autocommit: a read holds its locks for one statement only; writes use explicit transactions.
            # JIT compilation costs more than these short queries run (0.9 s on a county's compliance),
            # and a county's per-teacher sums should aggregate in memory rather than spill to disk.
            # The read model is derived from the log and its position is committed with its rows,
            # so its commits need not wait for the disk (synchronous_commit=off): a crash of the
            # database server can only lose its last few commits whole, which the next catch-up
            # applies again from the log (docs/read-model.md).
            kwargs={"options": f"-c search_path={schema} -c jit=off -c work_mem=64MB -c synchronous_commit=off",
                    "autocommit": True,
                    # how an operator (or a test) finds this store's read-model sessions in pg_stat_activity
                    "application_name": f"{APPLICATION_NAME}:{schema}"[:63]},
            open=True,
        )

    @contextmanager
    def transaction(self) -> Iterator[PostgresTx]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield PostgresTx(cursor)

    @contextmanager
    def snapshot(self) -> Iterator[PostgresTx]:
        """Reads in one REPEATABLE READ, READ ONLY transaction: they all see one state of the tables."""
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PostgresTx(cursor, prepare=False)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """A read. Never prepared: psycopg prepares a statement after its fifth run on a connection,
        and PostgreSQL may then keep one generic plan for any parameters, blind to a unit's path
        prefix and the year's dates (a county's compliance took ~400 ms instead of ~240 ms with it).
        Each read is planned for its own parameters; the writes of a catch-up keep theirs prepared."""
        with self.pool.connection() as conn, conn.cursor() as cursor:
            cursor.execute(_pg(sql), tuple(params), prepare=False)
            return list(cursor.fetchall())

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        key = f"trainrec:{name}"  # per schema: two stores in one database never wait for each other
        with self.pool.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext(current_schema() || %s))", (key,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(current_schema() || %s))", (key,))

    def close(self) -> None:
        self.pool.close()


def open_read_model_db(location: StoreLocation) -> ReadModelDB:
    if location.backend == "postgres":
        return PostgresDB(location.conninfo, location.schema, wait=location.wait)
    if location.backend == "sqlite":
        return SQLiteDB(location.sqlite_path)
    return SQLiteDB(":memory:")
