"""Garbage-collector settings for a long-running server process.

CPython's full (generation 2) collection walks every tracked object while holding the GIL, so
every request in flight waits for it. A server's heap is mostly what it built at start (FastAPI,
pydantic, eventsourcing, psycopg and their caches): on the bench store, with the default settings,
full collections of about 85 ms happened a dozen times in 20 seconds of writes and made most of the
write p99. Freezing the start-up heap (`gc.freeze`) takes it out of every later collection; a
higher first threshold makes the young collections, and with them the full ones, rarer.
Measured in docs/write-path.md ("Server heap").

Nothing leaks: frozen objects are still freed by reference counting; only a cycle among them
would wait for `gc.unfreeze()`, and start-up objects live as long as the process anyway.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)


def settle_heap() -> None:
    """Once a server has started: collect, then move every object alive now out of the collector's
    sight, and collect the young generation less often."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    gc.collect()
    gc.freeze()
