"""The store monitor: down on a failed probe, up again on the next good one, each change counted."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from service.storage.availability import PostgresProbe, StoreMonitor, is_store_error, monitor_for, refresh_pools
from service.storage.config import ConfigError, storage_from_url, store_wait
from tests.conftest import Backend, require_postgres


class Switch:
    def __init__(self) -> None:
        self.up = True
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if not self.up:
            raise ConnectionRefusedError("connection refused")


def test_a_failed_probe_marks_the_store_down_and_a_good_one_brings_it_back() -> None:
    switch = Switch()
    monitor = StoreMonitor(switch)
    assert monitor.check_now() is True
    switch.up = False
    assert monitor.check_now() is False
    status = monitor.status()
    assert (status.reachable, status.failures, status.outages) == (False, 1, 1)
    assert status.last_error == "ConnectionRefusedError: connection refused"
    assert status.down_since is not None
    assert monitor.check_now() is False  # still down: one more failure, the same outage
    assert (monitor.status().failures, monitor.status().outages) == (2, 1)
    switch.up = True
    assert monitor.check_now() is True
    status = monitor.status()
    assert (status.reachable, status.down_since, status.outages) == (True, None, 1)


def test_a_request_that_meets_a_store_error_wakes_the_monitor_at_once() -> None:
    probes: list[threading.Event] = [threading.Event(), threading.Event()]
    calls = []

    def probe() -> None:
        calls.append(1)
        probes[min(len(calls), 2) - 1].set()

    monitor = StoreMonitor(probe, every_up=3600, every_down=3600)  # no second probe for an hour unless woken
    monitor.start()
    try:
        assert probes[0].wait(5)
        monitor.suspect(OperationalError("server closed the connection"))
        assert probes[1].wait(5), "the monitor did not probe when told of an error"
        assert monitor.status().failures == 1
        assert monitor.status().last_error == "OperationalError: server closed the connection"
    finally:
        monitor.stop()


def test_which_errors_mean_the_store_is_not_answering() -> None:
    assert is_store_error(OperationalError("x"))
    assert is_store_error(psycopg.OperationalError("x"))
    assert not is_store_error(ValueError("x"))


def test_a_probe_of_a_port_nobody_listens_on_fails_fast() -> None:
    probe = PostgresProbe("host=127.0.0.1 port=1 dbname=x user=x", timeout=1)
    with pytest.raises(psycopg.OperationalError):
        probe()


def test_the_memory_store_needs_no_monitor(tmp_path: object) -> None:
    assert monitor_for(storage_from_url("memory://")) is None


def test_store_wait_is_whole_seconds_at_least_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINREC_STORE_WAIT", "3")
    assert store_wait() == 3
    assert storage_from_url("postgresql://u@h/db").env["POSTGRES_CONNECT_TIMEOUT"] == "3"
    assert storage_from_url("postgresql://u@h/db").location().wait == 3.0
    monkeypatch.delenv("TRAINREC_STORE_WAIT")
    assert store_wait() == 1
    for bad in ("0", "1.5", "x"):
        monkeypatch.setenv("TRAINREC_STORE_WAIT", bad)
        with pytest.raises(ConfigError):
            store_wait()


def test_the_pools_are_refreshed_once_when_the_store_returns() -> None:
    class Pool:
        checks = 0

        def check(self) -> None:
            self.checks += 1

    pools = [Pool(), Pool()]
    switch = Switch()
    monitor = StoreMonitor(switch, on_recovery=refresh_pools(lambda: pools))  # type: ignore[arg-type,return-value]
    monitor.check_now()
    assert [p.checks for p in pools] == [0, 0]  # answering from the start: nothing to refresh
    switch.up = False
    monitor.check_now()
    monitor.check_now()
    assert [p.checks for p in pools] == [0, 0]
    switch.up = True
    monitor.check_now()
    monitor.check_now()
    assert [p.checks for p in pools] == [1, 1]  # once, on the return


def test_pools_let_a_lost_connection_go_after_the_reconnect_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINREC_STORE_WAIT", "3")
    assert storage_from_url("postgresql://u@h/db").location().reconnect_window == 6.0
    monkeypatch.setenv("TRAINREC_STORE_WAIT", "1")
    assert storage_from_url("postgresql://u@h/db").location().reconnect_window == 2.0


@pytest.mark.postgres
def test_both_pools_of_a_postgres_store_use_the_reconnect_window(tmp_path: Path) -> None:
    require_postgres()
    from service.app import TrainRec

    app = TrainRec(Backend("postgres", tmp_path).fresh())
    try:
        pools = app.connection_pools()
        assert sorted(pools) == ["events", "read_model"]
        assert [pool.reconnect_timeout for pool in pools.values()] == [2.0, 2.0]  # psycopg_pool's default: 300
    finally:
        app.close()
