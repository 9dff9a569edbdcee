"""Slowing down repeated wrong passwords, per account and per client address.

After `FREE_FAILURES` wrong passwords within `WINDOW` seconds for one username (or from one
address), further attempts are refused (429 `too_many_attempts`, with Retry-After) for a delay
that starts at `FIRST_DELAY` seconds and doubles with each further failure, up to `LONGEST_DELAY`.
A successful sign-in clears the account's count (not the address's). Counts are kept in the
server process (docs/decisions.md says why)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.errors import DomainError

FREE_FAILURES = 5
WINDOW = 15 * 60.0
FIRST_DELAY = 30.0
LONGEST_DELAY = 15 * 60.0
MAX_KEYS = 100_000


class TooManyAttempts(DomainError):
    """Too many wrong passwords lately: try again after `retry_after` seconds."""

    kind = "too_many"

    def __init__(self, code: str, detail: str, retry_after: int) -> None:
        super().__init__(code, detail)
        self.retry_after = retry_after


@dataclass
class _Count:
    failures: list[float] = field(default_factory=list)
    blocked_until: float = 0.0


class Throttle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        """Refuse when any key is blocked."""
        now = self.clock()
        with self._lock:
            wait = max((c.blocked_until - now for k in keys if (c := self._counts.get(k))), default=0.0)
        if wait > 0:
            seconds = math.ceil(wait)
            raise TooManyAttempts("too_many_attempts", f"too many wrong passwords; try again in {seconds} seconds",
                                  seconds)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._counts) >= MAX_KEYS:
                self._counts = {k: c for k, c in self._counts.items() if c.blocked_until > now}
            for key in keys:
                count = self._counts.setdefault(key, _Count())
                count.failures = [t for t in count.failures if t > now - WINDOW] + [now]
                beyond = len(count.failures) - FREE_FAILURES
                if beyond >= 0:
                    count.blocked_until = now + min(LONGEST_DELAY, FIRST_DELAY * 2 ** beyond)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)
