"""The read model of one store: its tables, its tracked position, and the catch-up loop.

Each page of events is applied in one transaction together with the new tracking
position, so a crash between an event and its rows loses nothing and counts nothing
twice. The same loop runs on SQLite (which has no subscriptions) and PostgreSQL; it
applies a page per transaction rather than an event per transaction, which is what makes
rebuilds fast. Any process may call `catch_up`: the tracking row is locked and re-read
inside the transaction, so two appliers never apply the same page twice.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

import psycopg
from psycopg import sql
from psycopg.errors import LockNotAvailable

from projections import pg_load
from projections.db import ReadModelDB, Tx
from projections.following import Following
from projections.records import RecordsProjection
from projections.reports import Reports
from projections.schema import BUILD, CACHES, LIVE, RETIRED, TABLES, columns, create_statements, index_statements
from projections.school_years import GENERATION, GENERATION_MARK, TRACKED, SchoolYears, start_marking
from projections.teacher_years import derive_all

log = logging.getLogger("trainrec.projections")

NAME = TRACKED  # the tracking row of this projection
PAGE = 1000
REFRESH_EVERY = 60.0  # seconds between refreshes of stale compliance rows by a follower (reads compute the rest)

Progress = Callable[[int, int], None]


class ReadModel:
    def __init__(self, app: Any, db: ReadModelDB, prefix: str = LIVE) -> None:
        """`app` gives the log (`recorder`, `mapper`), the `policy` and the `clock`; `db` the tables."""
        self.app = app
        self.db = db
        self.prefix = prefix
        self._lock = threading.Lock()
        self._refreshed: tuple[int, date, float] | None = None  # position, day and time of the last refresh
        self.projection = RecordsProjection(prefix, app.policy)
        if self.tables_exist(prefix) and self.tables_current(prefix):
            self._ensure_caches(prefix)  # a cache an older trainrec did not keep starts empty: no rebuild
            return
        # No tables yet, or tables of an older trainrec (a table or column missing): create or
        # rebuild them from the log once, whichever process gets here first (server workers start
        # together; two creating the tables at once would fail).
        with self.db.exclusive("rebuild"):
            if self.tables_exist(prefix) and not self.tables_current(prefix):
                self._rebuild(None)
            self.ensure_tables(prefix)

    # --- tables --------------------------------------------------------------------------
    def _answers(self, sql: str) -> bool:
        """Whether a statement runs: false when a table or column it names is missing."""
        try:
            self.db.query(sql)
        except Exception:  # noqa: BLE001 - the error type differs per driver
            return False
        return True

    def tables_exist(self, prefix: str) -> bool:
        return self._answers(f"SELECT position FROM {prefix}tracking WHERE 1 = 0")

    def tables_current(self, prefix: str) -> bool:
        """Whether every table of this version's schema (caches aside) is there with every column, and
        without a column this version no longer writes (`RETIRED`)."""
        return all(self._answers(f"SELECT {', '.join(columns(name))} FROM {prefix}{name} WHERE 1 = 0")
                   for name in TABLES if name not in CACHES) and not any(
            self._answers(f"SELECT {column} FROM {prefix}{name} WHERE 1 = 0")
            for name, retired in RETIRED.items() for column in retired)

    def _ensure_caches(self, prefix: str) -> None:
        """Create the caches an older store lacks, or start them again beside tables of another
        generation (a rebuild by a trainrec that did not keep them left them behind)."""
        def missing() -> bool:
            if not all(self._answers(f"SELECT {', '.join(columns(name))} FROM {prefix}{name} WHERE 1 = 0")
                       for name in CACHES):
                return True
            rows = self.db.query(
                f"SELECT (SELECT position FROM {prefix}tracking WHERE name = ?) AS generation, "
                f"(SELECT position FROM {prefix}school_changes WHERE school_id = ?) AS started", (GENERATION,
                                                                                               GENERATION_MARK))
            return rows[0][1] is not None and int(rows[0][0] or 0) != int(rows[0][1])

        if not missing():
            return
        with self.db.exclusive("rebuild"):
            if not missing():  # another process starting at the same time made them
                return
            lock = " FOR UPDATE" if self.db.backend == "postgres" else ""  # no page applied meanwhile
            with self.db.transaction() as tx:
                tracking = dict(tx.query(f"SELECT name, position FROM {prefix}tracking{lock}"))
                for name in CACHES:  # all of them: one kept without the other could look fresh
                    tx.execute(f"DROP TABLE IF EXISTS {prefix}{name}")
                    tx.execute(f"CREATE TABLE {prefix}{name} ({TABLES[name]})")
                self._compress_answers(tx, prefix)
                start_marking(tx, prefix, int(tracking.get(NAME, 0)), int(tracking.get(GENERATION, 0)))

    def ensure_tables(self, prefix: str, indexes: bool = True) -> None:
        if self.tables_exist(prefix):
            return
        with self.db.transaction() as tx:
            for statement in create_statements(prefix, indexes):
                tx.execute(statement)
            self._compress_answers(tx, prefix)
            tx.execute(f"INSERT INTO {prefix}tracking (name, position) VALUES (?, ?)", (NAME, 0))
            # names this generation of tables, so rows computed from another are never written into it
            # (negative: never taken for a position)
            generation = -(secrets.randbits(62) + 1)
            tx.execute(f"INSERT INTO {prefix}tracking (name, position) VALUES (?, ?)", (GENERATION, generation))
            start_marking(tx, prefix, 0, generation)

    def _compress_answers(self, tx: Tx, prefix: str) -> None:
        """On PostgreSQL, stored compliance answers (megabytes of teacher numbers for a county) are
        compressed with lz4 where the server has it: written about 2.5 times and read about 1.5
        times as fast as with the default pglz (docs/read-model.md)."""
        if self.db.backend != "postgres":
            return
        if tx.query("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"):
            tx.execute(f"ALTER TABLE {prefix}unit_years ALTER COLUMN answer SET COMPRESSION lz4")

    def drop_tables(self, prefix: str) -> None:
        with self.db.transaction() as tx:
            for name in TABLES:
                tx.execute(f"DROP TABLE IF EXISTS {prefix}{name}")

    # --- position ------------------------------------------------------------------------
    def position(self, prefix: str | None = None) -> int:
        rows = self.db.query(f"SELECT position FROM {prefix or self.prefix}tracking WHERE name = ?", (NAME,))
        return int(rows[0][0]) if rows else 0

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    # --- applying events -----------------------------------------------------------------
    def catch_up(self, *, until: int | None = None, page: int = PAGE, progress: Progress | None = None) -> int:
        """Apply every recorded event not yet applied (up to `until`); returns the new position."""
        with self._lock:
            return self._catch_up(self.prefix, self.projection, until, page, progress)

    def _catch_up(
        self, prefix: str, projection: RecordsProjection, until: int | None, page: int, progress: Progress | None
    ) -> int:
        position = self.position(prefix)
        target = self.head() if until is None else until
        lock = " FOR UPDATE" if self.db.backend == "postgres" else ""
        while position < target:
            notifications = self.app.recorder.select_notifications(
                start=position + 1, limit=page, stop=target
            )
            if not notifications:
                break
            to_event = self.app.mapper.to_domain_event
            with self.db.transaction() as tx:
                current = int(tx.query(f"SELECT position FROM {prefix}tracking WHERE name = ?{lock}", (NAME,))[0][0])
                if current != position:  # another applier got here first: start again from its position
                    position = current
                    continue
                projection.apply_page(tx, ((n.id, to_event(n)) for n in notifications))
                position = notifications[-1].id
                tx.execute(f"UPDATE {prefix}tracking SET position = ? WHERE name = ?", (position, NAME))
            if progress is not None:
                progress(position, target)
        return position

    def today(self) -> date:
        return self.app.policy.local_date(self.app.clock())  # type: ignore[no-any-return]

    def refresh_compliance(self, every: float = REFRESH_EVERY) -> int:
        """Recompute the stored per-school compliance rows that pages since the last refresh, or
        the change of day, made stale (what a follower does between pages), at most once per
        `every` seconds unless the day changed: under a burst of writes a read computes the few
        schools still stale itself. The stored answers of units above the schools that went stale are
        computed again after them. Returns how many rows and answers were written."""
        today = self.today()
        last = self._refreshed
        if last is not None and last[1] == today and time.monotonic() - last[2] < every:
            return 0  # refreshed lately: what a follower calls between its rounds costs no query
        position = self.position()
        if last is not None and last[1] == today and last[0] == position:
            return 0
        school_years = SchoolYears(self.db, self.prefix, self.app.policy)
        written = school_years.refresh(today)
        reports = Reports(self.db, self.prefix, self.app.policy)
        written += reports.refresh_answers(today, school_years.recent_years(today))
        self._refreshed = (position, today, time.monotonic())
        return written

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Read-your-writes: make sure the tables reflect `position`, applying events if needed."""
        deadline = time.monotonic() + timeout
        while self.position() < position:
            if self._lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                try:
                    self._catch_up(self.prefix, self.projection, position, PAGE, None)
                finally:
                    self._lock.release()
            if time.monotonic() >= deadline:
                break
        return self.position() >= position

    # --- rebuild -------------------------------------------------------------------------
    def rebuild(self, progress: Progress | None = None) -> int:
        """Build a new generation of tables from the whole log while the live ones keep serving,
        then swap them in one transaction. Returns the new tables' position. One rebuild at a time
        per store: another process's rebuild is waited for."""
        with self.db.exclusive("rebuild"):
            return self._rebuild(progress)

    def _rebuild(self, progress: Progress | None) -> int:
        self.drop_tables(BUILD)
        self.ensure_tables(BUILD, indexes=False)
        building = RecordsProjection(BUILD, self.app.policy, derive=False)
        # On PostgreSQL the database loads the log (without the loaded tables' primary keys, built
        # with the indexes below); what it did not load is applied once the keys and indexes exist.
        loaded = self.db.backend == "postgres" and pg_load.available(self.app) and self._load_in_database(progress)
        if not loaded:
            self._catch_up(BUILD, building, None, PAGE * 5, progress)
        with self.db.transaction() as tx:  # derive and index the loaded rows at once, then let the planner see them
            derive_all(tx, BUILD, self.app.policy)
            if self.db.backend != "postgres":
                for statement in index_statements(BUILD):
                    tx.execute(statement)
        if self.db.backend == "postgres":  # the index builds, then the ANALYZEs, shared by connections at once
            keys = pg_load.key_statements(BUILD) if loaded else []
            for batch in (keys + index_statements(BUILD), [f"ANALYZE {BUILD}{name}" for name in TABLES]):
                pg_load.in_parallel([partial(self._execute_all, batch[part::pg_load.PARTS])
                                     for part in range(pg_load.PARTS)])
        building.derive = True
        with self._lock:
            position = self._catch_up(BUILD, building, None, PAGE, progress)
            with self.db.transaction() as tx:
                generation = tx.query(f"SELECT position FROM {BUILD}tracking WHERE name = ?", (GENERATION,))
                start_marking(tx, BUILD, position, int(generation[0][0]))
            self._swap()
            self.projection = RecordsProjection(self.prefix, self.app.policy)
        # A county's first compliance read after a rebuild should not be the one that sums every teacher.
        school_years = SchoolYears(self.db, self.prefix, self.app.policy)
        today = self.today()
        years = school_years.years_on_record(today)
        school_years.refresh(today, years)
        Reports(self.db, self.prefix, self.app.policy).prepare_answers(today, years)
        return position

    def _execute_all(self, statements: list[str]) -> None:
        """Each statement in a transaction of its own: its table's lock is held for it alone (two
        connections sharing a list of index builds would otherwise wait for each other's tables)."""
        for statement in statements:
            with self.db.transaction() as tx:
                tx.execute(statement)

    def _load_in_database(self, progress: Progress | None) -> bool:
        """On PostgreSQL, have the database load the tables from the log up to its head
        (projections/pg_load.py); false if it cannot, or failed (a server setting, a role without
        pgcrypto's rights …): the tables are then started again and the log applied in Python."""
        recorder = self.app.recorder
        events = sql.SQL("{0}.{1}").format(sql.Identifier(recorder.datastore.schema),
                                           sql.Identifier(recorder.events_table_name)).as_string(None)
        try:
            position = pg_load.load(self.db, BUILD, events)
        except psycopg.Error as error:
            log.warning("the database could not load the rebuilt tables (%s): applying the log in Python", error)
            position = None
        if position is None:
            self.drop_tables(BUILD)  # whatever a part loaded, and the tables without their keys
            self.ensure_tables(BUILD, indexes=False)
            return False
        with self.db.transaction() as tx:
            tx.execute(f"UPDATE {BUILD}tracking SET position = ? WHERE name = ?", (position, NAME))
        if progress is not None:
            progress(position, position)
        return True

    def _swap(self, attempts: int = 100) -> None:
        """Replace the live tables by the built ones in one transaction. On PostgreSQL the swap takes
        every table lock up front with a short lock timeout and retries, so it never deadlocks with
        readers (it gives way long before the deadlock detector would pick a victim)."""
        live = [name for name in TABLES  # an older schema lacks some
                if self._answers(f"SELECT 1 FROM {self.prefix}{name} WHERE 1 = 0")]
        for attempt in range(attempts):
            try:
                with self.db.transaction() as tx:
                    if self.db.backend == "postgres":
                        tx.execute("SET LOCAL lock_timeout = '200ms'")
                        names = ", ".join([f"{self.prefix}{name}" for name in live] + [f"{BUILD}{n}" for n in TABLES])
                        tx.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
                    for name in TABLES:
                        tx.execute(f"DROP TABLE IF EXISTS {self.prefix}{name}")
                        tx.execute(f"ALTER TABLE {BUILD}{name} RENAME TO {self.prefix}{name}")
                return
            except LockNotAvailable:
                time.sleep(0.01 * (attempt + 1))
        msg = "could not take the table locks to swap in the rebuilt tables"
        raise RuntimeError(msg)

    def close(self) -> None:
        self.db.close()


class CatchUpThread(Following):
    """Keeps the read model close to the log in a server process on SQLite (no subscriptions): a
    round every `interval` seconds. An error (say "database is locked" past the lock timeout)
    ends its round only: it is retried on the backoff schedule (projections/following.py)."""

    def __init__(self, model: ReadModel, interval: float = 0.5) -> None:
        super().__init__(model, "trainrec-catch-up")
        self.interval = interval

    def follow(self) -> None:
        while not self.stopping.is_set():
            self.round()
            self.stopping.wait(self.interval)
