"""A read or write is tried again once after a broken connection, never after the pool's wait ran out."""

from __future__ import annotations

import psycopg_pool
import pytest
from eventsourcing.persistence import OperationalError

from service.storage.pg_recorder import CopyingApplicationRecorder, once_more_after_a_broken_connection


def failing(times: int, cause: BaseException | None = None) -> tuple[list[int], object]:
    calls: list[int] = []

    def method() -> str:
        calls.append(1)
        if len(calls) <= times:
            error = OperationalError("boom")
            error.__cause__ = cause
            raise error
        return "ok"

    return calls, once_more_after_a_broken_connection(method)


def test_a_broken_connection_is_tried_once_more() -> None:
    calls, method = failing(1)
    assert method() == "ok"  # type: ignore[operator]
    assert len(calls) == 2


def test_two_failures_in_a_row_go_back_to_the_caller() -> None:
    calls, method = failing(5)
    with pytest.raises(OperationalError):
        method()  # type: ignore[operator]
    assert len(calls) == 2  # eventsourcing's own loop would have tried 10 times, 0.2 s apart


def test_a_pool_that_has_no_connection_to_give_is_not_waited_on_again() -> None:
    calls, method = failing(5, psycopg_pool.PoolTimeout("couldn't get a connection after 1.00 sec"))
    with pytest.raises(OperationalError):
        method()  # type: ignore[operator]
    assert len(calls) == 1


def test_the_recorder_uses_the_bounded_methods_not_eventsourcings_retry_loop() -> None:
    for name in ("select_events", "select_notifications", "max_notification_id", "_insert_events_bounded",
                 "_copy_events"):
        method = getattr(CopyingApplicationRecorder, name)
        assert method.__code__.co_name == "bounded", name
