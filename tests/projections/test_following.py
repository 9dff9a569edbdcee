"""What every follower shares (projections/following.py): the retry schedule, the status, the
logging of failures and recoveries, and telling a stuck follower from a live one. Run here with a
model that only counts (the followers on SQLite and PostgreSQL: tests/service/followers)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from projections import following
from projections.following import Backoff, FollowerStatus, Following, describe
from projections.view import CatchUpThread


def test_the_backoff_doubles_from_a_tenth_of_a_second_to_five_and_starts_again_after_a_success() -> None:
    backoff = Backoff()
    delays = [backoff.next() for _ in range(9)]
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])
    backoff.reset()
    assert [backoff.next() for _ in range(3)] == pytest.approx([0.1, 0.2, 0.4])


def test_an_error_is_told_in_one_line() -> None:
    assert describe(OSError("server closed the connection unexpectedly\n\tThis probably means …")) == (
        "OSError: server closed the connection unexpectedly")
    assert describe(RuntimeError()) == "RuntimeError"


class CountingModel:
    """Stands for a ReadModel: a log whose head the test moves, applied in pages of 10."""

    def __init__(self) -> None:
        self.log_head = 0
        self.applied = 0
        self.failing = 0  # the next calls of catch_up that raise
        self.blocked: threading.Event | None = None  # catch_up waits for it when set
        self.lock = threading.Lock()

    def head(self) -> int:
        return self.log_head

    def catch_up(self, *, until: int | None = None, progress: Callable[[int, int], None] | None = None) -> int:
        if self.blocked is not None:
            self.blocked.wait(10)
        with self.lock:
            if self.failing:
                self.failing -= 1
                msg = "database is locked"
                raise OSError(msg)
        target = self.log_head if until is None else until
        while self.applied < target:
            self.applied = min(target, self.applied + 10)
            if progress is not None:
                progress(self.applied, target)
        return self.applied

    def refresh_compliance(self) -> int:
        return 0


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def started(model: Any) -> Following:
    follower = CatchUpThread(model, interval=0.01)
    follower.backoff = Backoff(first=0.001, longest=0.004)
    follower.start()
    return follower


def test_a_follower_keeps_following_through_failures_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    model = CountingModel()
    model.log_head = 25
    follower = started(model)
    try:
        assert follower.wait(25, timeout=10)
        first = follower.status()
        assert first == FollowerStatus(alive=True, position=25, head=25, lag=0, last_error=None, last_error_at=None,
                                       failures=0, recovered_at=None, events_per_second=first.events_per_second)
        caplog.set_level(logging.DEBUG, logger="trainrec.follower")
        with model.lock:
            model.failing = 3
        model.log_head = 60
        assert follower.wait(60, timeout=10)
        assert eventually(lambda: follower.status().recovered_at is not None)
        status = follower.status()
        assert status.failures == 3
        assert status.last_error == "OSError: database is locked"
        assert status.last_error_at is not None
        assert status.recovered_at is not None
        assert status.recovered_at >= status.last_error_at
        assert status.alive
        assert status.lag == 0
        assert status.events_per_second > 0
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1  # once per streak of failures, with the error
        assert "database is locked" in warnings[0].getMessage()
        # the follower marks the recovery, then logs it: the record may come a moment after the status
        assert eventually(lambda: any(r.levelno == logging.INFO for r in caplog.records))
        recoveries = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
        assert len(recoveries) == 1
        assert "recovered after" in recoveries[0]
        assert recoveries[0].endswith(" s, 3 failures")
        with model.lock:  # a second streak is told again
            model.failing = 1
        model.log_head = 70
        assert follower.wait(70, timeout=10)
        assert eventually(lambda: follower.status().failures == 4)
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2
    finally:
        follower.stop()
    assert not follower.status().alive  # stopped


def test_a_follower_stuck_in_a_round_is_not_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(following, "STUCK_AFTER", 0.05)
    model = CountingModel()
    follower = started(model)
    try:
        assert follower.ready.wait(10)
        model.blocked = threading.Event()
        model.log_head = 10
        assert eventually(lambda: not follower.status().alive)
        assert follower.is_alive()
        model.blocked.set()
        assert follower.wait(10, timeout=10)
        assert eventually(lambda: follower.status().alive)  # waiting between rounds is not being stuck
    finally:
        model.blocked = None
        follower.stop()


def test_the_rate_is_of_the_recent_window(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(following, "monotonic", lambda: clock[0])
    follower = CatchUpThread(CountingModel())  # not started: its state alone
    assert follower.status().events_per_second == 0.0
    follower._reached(100, 100)
    clock[0] += 2
    follower._reached(300, 300)
    assert follower.status().events_per_second == pytest.approx(100.0)  # 200 events over 2 s
    clock[0] += 2
    assert follower.status().events_per_second == pytest.approx(50.0)  # nothing since: over 4 s
    clock[0] += following.RATE_WINDOW + 1
    assert follower.status().events_per_second == 0.0  # nothing within the window
    follower._reached(400, 500)
    status = follower.status()
    assert (status.position, status.head, status.lag) == (400, 500, 100)
