"""What every follower of the log shares: its typed status, its retry schedule, and the thread
that keeps following through database errors.

A follower is a thread that brings the read model up to the log's head, round after round, until
it is stopped. Any error in a round (a dropped connection, a database restart, SQLite's "database
is locked") ends that round only: the thread logs it (a warning once per streak of failures),
waits on a backoff schedule (0.1 s doubling to 5 s, back to 0.1 s after a round that succeeds)
and starts again, reconnecting whatever it needs; its first successful round after a streak is
logged as a recovery. `status()` tells, without touching the database, how it is doing.

The rounds themselves (what to wait for between them, which connections to make) belong to the
subclasses: `projections.view.CatchUpThread` polls (SQLite), `service.followers.follow.ListeningFollower`
is woken by PostgreSQL's NOTIFY.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from time import monotonic
from typing import Any

log = logging.getLogger("trainrec.follower")

FIRST_DELAY = 0.1  # seconds before the first retry of a streak of failures
LONGEST_DELAY = 5.0  # the delay doubles up to this
STUCK_AFTER = 60.0  # seconds in one round without a page applied: the follower counts as stuck
RATE_WINDOW = 10.0  # seconds over which `events_per_second` is measured


@dataclass(frozen=True)
class FollowerStatus:
    """How a follower is doing, as of its last round (no database access to tell)."""

    alive: bool  # the thread runs, and is not stuck in one round for STUCK_AFTER seconds
    position: int  # the read model's position after the follower's last page
    head: int | None  # the log's head as last seen (None before the first round)
    lag: int | None  # head - position (None before the first round)
    last_error: str | None  # the last error of a round, as "Type: message" (first line)
    last_error_at: datetime | None  # when it happened (UTC)
    failures: int  # rounds that failed since the follower started
    recovered_at: datetime | None  # the end of the last streak of failures (UTC)
    events_per_second: float  # the read model's progress over the last RATE_WINDOW seconds


class Backoff:
    """Delays between retries: `first`, doubling on each failure up to `longest`; `reset()` after
    a success starts again from `first`."""

    def __init__(self, first: float = FIRST_DELAY, longest: float = LONGEST_DELAY, factor: float = 2.0) -> None:
        self.first = first
        self.longest = longest
        self.factor = factor
        self._next = first

    def next(self) -> float:
        """The delay before the next retry (and the one after it grows)."""
        delay = self._next
        self._next = min(self.longest, self._next * self.factor)
        return delay

    def reset(self) -> None:
        self._next = self.first


def describe(error: BaseException) -> str:
    """An error as one line: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text[:500]


class Following(threading.Thread):
    """A thread following the log into `model` (a `projections.view.ReadModel`) round after round,
    through any error, until `stop()`. Subclasses implement `follow()`: connect what they need,
    then call `round()` whenever there may be something to apply, until `self.stopping` is set;
    any exception it raises is a failure, retried on the backoff schedule."""

    def __init__(self, model: Any, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.model = model
        self.stopping = threading.Event()
        self.ready = threading.Event()  # one round succeeded: the read model reached the head once
        self.settled = threading.Event()  # the first round succeeded, or a round failed
        self.backoff = Backoff()
        self._state = threading.Condition()
        self.position = 0  # guarded by _state, as is everything below
        self._head: int | None = None
        self._failures = 0
        self._streak = 0  # failures since the last successful round
        self._streak_started = 0.0  # monotonic() of the streak's first failure
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None
        self._recovered_at: datetime | None = None
        self._busy_since: float | None = None  # in a round, since its start or its last page
        self._samples: deque[tuple[float, int]] = deque()  # (monotonic(), position)
        # work on what the log derives that is not the read model, after each round (the transparency
        # log's tree and checkpoints: service/transparency/log.py); each must not raise
        self.after_round: list[Callable[[], None]] = []

    # --- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.follow()
            except Exception as error:  # noqa: BLE001 - any error: logged, counted, retried
                delay = self._failed(error)
                self.stopping.wait(delay)
        self._idle()

    def follow(self) -> None:
        raise NotImplementedError

    def round(self) -> int:
        """Apply everything up to the log's head, then refresh what compliance rows went stale (at
        most once a minute: `ReadModel.refresh_compliance`), then run `after_round`. Returns the new
        position."""
        self._busy()
        head = int(self.model.head())
        position = int(self.model.catch_up(until=head, progress=self._page))
        self._reached(position, head)
        self.model.refresh_compliance()
        for work in self.after_round:
            work()
        self._succeeded()
        self._idle()
        return position

    def wait(self, position: int, timeout: float) -> bool:
        """Whether this follower brought the read model to `position` within `timeout` seconds."""
        with self._state:
            return self._state.wait_for(lambda: self.position >= position, timeout)

    def stop(self) -> None:
        self.stopping.set()
        self.wake()
        self.join(timeout=10)

    def wake(self) -> None:
        """Make a waiting follower look at `self.stopping` now (subclasses that wait on more than
        that event say how)."""

    # --- the state -----------------------------------------------------------------------
    def status(self) -> FollowerStatus:
        now = monotonic()
        with self._state:
            stuck = self._busy_since is not None and now - self._busy_since > STUCK_AFTER
            head = self._head
            return FollowerStatus(
                alive=self.is_alive() and not stuck,
                position=self.position,
                head=head,
                lag=None if head is None else max(0, head - self.position),
                last_error=self._last_error,
                last_error_at=self._last_error_at,
                failures=self._failures,
                recovered_at=self._recovered_at,
                events_per_second=self._rate(now),
            )

    def _rate(self, now: float) -> float:
        """Events per second over the window up to `now`, from the last sample at or before its
        start (or the first sample, if younger) to the last: a follower with nothing to do reads 0."""
        if not self._samples:
            return 0.0
        anchor = self._samples[0]
        for sample in self._samples:
            if sample[0] > now - RATE_WINDOW:
                break
            anchor = sample
        spent = now - anchor[0]
        return (self._samples[-1][1] - anchor[1]) / spent if spent > 0 else 0.0

    def _busy(self) -> None:
        with self._state:
            self._busy_since = monotonic()

    def _idle(self) -> None:
        with self._state:
            self._busy_since = None

    def _page(self, position: int, head: int) -> None:
        """After each page a catch-up applied (its `progress`)."""
        self._reached(position, max(head, position))

    def _reached(self, position: int, head: int) -> None:
        now = monotonic()
        with self._state:
            self._busy_since = now
            self.position = position
            self._head = max(head, position)
            samples = self._samples
            samples.append((now, position))
            while len(samples) > 2 and samples[1][0] <= now - RATE_WINDOW:
                samples.popleft()  # the oldest kept is the last one at or before the window's start
            self._state.notify_all()

    def _succeeded(self) -> None:
        self.backoff.reset()
        self.ready.set()
        self.settled.set()
        with self._state:
            if not self._streak:
                return
            failures, self._streak = self._streak, 0
            self._recovered_at = datetime.now(tz=UTC)
            spent = monotonic() - self._streak_started
        log.info("%s: recovered after %.1f s, %d failures", self.name, spent, failures)

    def _failed(self, error: BaseException) -> float:
        """Count and log a failed round; returns how long to wait before the next."""
        delay = self.backoff.next()
        text = describe(error)
        with self._state:
            self._busy_since = None
            self._failures += 1
            self._streak += 1
            first = self._streak == 1
            if first:
                self._streak_started = monotonic()
            self._last_error = text
            self._last_error_at = datetime.now(tz=UTC)
        self.settled.set()
        if first:
            log.warning("%s: %s; retrying in %.1f s, then backing off up to %.0f s until it succeeds",
                        self.name, text, delay, self.backoff.longest)
        else:
            log.debug("%s: failed again (%s); retrying in %.1f s", self.name, text, delay)
        try:
            self.failed(error)
        except Exception:  # healing is best effort: the next round tells
            log.debug("%s: could not check its connections", self.name, exc_info=True)
        return delay

    def failed(self, error: BaseException) -> None:
        """After a failed round, before the wait: subclasses drop what the error may have broken."""
