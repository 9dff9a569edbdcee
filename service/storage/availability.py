"""Whether the store answers, known without waiting on it.

A monitor thread probes the store on a connection of its own: every `EVERY_UP` seconds while it
answers, every `EVERY_DOWN` seconds while it does not. A request that meets a store error reports
it (`suspect`), which wakes the monitor to probe at once. While the store does not answer, requests
are refused at once with 503 `store_unavailable` (service/api/availability.py) instead of each
waiting on a connection that will not come; when a probe succeeds again, they flow again, with no
restart. Each change is logged once: the failure with its error, the recovery with how long it took.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from eventsourcing import persistence

from service.storage.config import Storage, postgres_conninfo

log = logging.getLogger("trainrec.store")

EVERY_UP = 1.0  # seconds between probes while the store answers
EVERY_DOWN = 0.25  # seconds between probes while it does not
PROBE_TIMEOUT = 1.0  # seconds a probe may take before the store counts as not answering

# What a store that does not answer raises: a refused or broken connection, a pool that has no
# connection to give within its wait, a statement cancelled by its timeout (eventsourcing wraps
# psycopg's and sqlite3's errors in its own).
STORE_ERRORS: tuple[type[Exception], ...] = (
    persistence.OperationalError,
    persistence.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def is_store_error(error: BaseException) -> bool:
    return isinstance(error, STORE_ERRORS)


@dataclass(frozen=True)
class StoreStatus:
    reachable: bool
    last_error: str | None
    last_error_at: datetime | None
    down_since: datetime | None
    failures: int  # probes or requests that found the store not answering, since start
    outages: int  # times it went from answering to not

    def as_dict(self) -> dict[str, object]:
        return {
            "reachable": self.reachable,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
            "down_since": self.down_since.isoformat() if self.down_since else None,
            "failures": self.failures,
            "outages": self.outages,
        }


class StoreMonitor:
    def __init__(self, probe: Callable[[], None], *, every_up: float = EVERY_UP,
                 every_down: float = EVERY_DOWN, on_recovery: Callable[[], None] | None = None) -> None:
        self.probe = probe
        self.on_recovery = on_recovery
        self.every_up = every_up
        self.every_down = every_down
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._reachable = True
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None
        self._down_since: float | None = None
        self._down_since_at: datetime | None = None
        self._failures = 0
        self._outages = 0
        self._thread = threading.Thread(target=self._run, name="trainrec-store-monitor", daemon=True)

    def start(self) -> StoreMonitor:
        self._thread.start()
        return self

    @property
    def reachable(self) -> bool:
        return self._reachable

    def suspect(self, error: BaseException) -> None:
        """A request met `error` from the store: probe now rather than at the next interval."""
        with self._lock:
            self._failures += 1
            self._last_error = _describe(error)
            self._last_error_at = datetime.now(UTC)
        self._wake.set()

    def check_now(self) -> bool:
        """Probe in the caller's thread (bounded by the probe's own timeout); returns reachability."""
        self._probe_once()
        return self._reachable

    def status(self) -> StoreStatus:
        with self._lock:
            return StoreStatus(self._reachable, self._last_error, self._last_error_at, self._down_since_at,
                               self._failures, self._outages)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._probe_once()
            self._wake.wait(self.every_up if self._reachable else self.every_down)
            self._wake.clear()

    def _probe_once(self) -> None:
        try:
            self.probe()
        except Exception as error:  # noqa: BLE001 - any failure of the probe means not answering
            self._went_down(error)
        else:
            self._came_back()

    def _went_down(self, error: BaseException) -> None:
        with self._lock:
            self._failures += 1
            self._last_error = _describe(error)
            self._last_error_at = datetime.now(UTC)
            if not self._reachable:
                return
            self._reachable = False
            self._outages += 1
            self._down_since = time.monotonic()
            self._down_since_at = self._last_error_at
        log.warning("store not answering: %s; requests answer 503 store_unavailable until it does",
                    self._last_error)

    def _came_back(self) -> None:
        with self._lock:
            if self._reachable:
                return
            took = time.monotonic() - (self._down_since or time.monotonic())
            self._reachable = True
            self._down_since = None
            self._down_since_at = None
        log.warning("store answering again after %.1f s; requests flow again", took)
        if self.on_recovery is not None:
            try:
                self.on_recovery()
            except Exception:  # the pools heal on their own too, only slower
                log.exception("refreshing the connection pools after the store's return failed")


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text[:300]}"


class PostgresProbe:
    """`SELECT 1` on a connection of the monitor's own, reconnected when it breaks."""

    def __init__(self, conninfo: str, timeout: float = PROBE_TIMEOUT) -> None:
        self.conninfo = conninfo
        self.timeout = timeout
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def __call__(self) -> None:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(
                    self.conninfo, autocommit=True, connect_timeout=max(2, round(self.timeout)),
                    application_name="trainrec-store-monitor",
                    options=f"-c statement_timeout={int(self.timeout * 1000)}")
            self._conn.execute("SELECT 1")
        except Exception:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            raise


def sqlite_probe(path: str) -> Callable[[], None]:
    def probe() -> None:
        conn = sqlite3.connect(path, timeout=PROBE_TIMEOUT)
        try:
            conn.execute("SELECT 1").fetchone()
        finally:
            conn.close()

    return probe


def refresh_pools(pools: Callable[[], list[Any]]) -> Callable[[], None]:
    """After an outage the pools hold idle connections the restart broke (each would fail a request
    once), and psycopg_pool retries the connections it lost on a backoff that has grown with the
    outage (1, 2, 4, 8, 16 s...): after 20 s away, the next try could come 10 s after the store's
    return. `check()` tests each idle connection and replaces a broken one at once."""

    def refresh() -> None:
        for pool in pools():
            pool.check()

    return refresh


def monitor_for(storage: Storage, pools: Callable[[], list[Any]] = list) -> StoreMonitor | None:
    """A monitor for `storage` (not started), or None for the in-memory store, which cannot fail.
    `pools`: the psycopg connection pools to refresh when the store returns."""
    if storage.backend == "postgres":
        return StoreMonitor(PostgresProbe(postgres_conninfo(storage.env)), on_recovery=refresh_pools(pools))
    if storage.backend == "sqlite":
        return StoreMonitor(sqlite_probe(storage.env["SQLITE_DBNAME"]))
    return None
