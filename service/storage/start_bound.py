"""A bound on how long a write may wait for its transaction to start.

The server's committer (service/application/group_commit.py) saves every HTTP write: if the store
cannot start a transaction (PostgreSQL down, or its event table locked by someone else; an SQLite
file locked by another process), a write must not hang there, and with it every request queued
behind it. A thread that sets a bound (`bounded_start`) has each of its event saves give up once
that many seconds passed without the transaction starting (a connection, then the event table's
lock): the recorders (`pg_recorder.py`, `sqlite_recorder.py`) then raise `Unavailable`
(`store_unavailable`, 503), and nothing was recorded. Once a transaction has started, it runs to
its end as before. Threads without a bound keep the recorders' own waits and retries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from domain.errors import Unavailable

_local = threading.local()


@contextmanager
def bounded_start(seconds: float | None) -> Iterator[None]:
    """Within the block, this thread's event saves start their transaction within `seconds` or fail."""
    previous = getattr(_local, "bound", None)
    _local.bound = seconds
    try:
        yield
    finally:
        _local.bound = previous


def start_bound() -> float | None:
    """This thread's bound on starting a write's transaction, in seconds (None: unbounded)."""
    bound: float | None = getattr(_local, "bound", None)
    return bound


def not_started(seconds: float, why: str) -> Unavailable:
    """The error of a save whose transaction did not start within `seconds`: nothing was recorded."""
    reason = why.strip().splitlines()[0] if why.strip() else "no reason given"
    return Unavailable("store_unavailable", f"the store could not start a transaction within {seconds:g} s "
                       f"({reason}); nothing was recorded, try again", retry_after=1)
