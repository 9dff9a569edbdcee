"""In memory, a rebuild's exclusive lock is not the writer's lock: a rebuild waiting for the
model's lock must not stop the catch-up thread that holds it from writing (it deadlocked)."""

from __future__ import annotations

import threading

from projections.db import SQLiteDB

WAIT = 5.0


def test_an_exclusive_holder_does_not_stop_writers_in_memory() -> None:
    db = SQLiteDB(":memory:")
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with db.exclusive("rebuild"):
            held.set()
            release.wait(WAIT)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(WAIT)
    wrote = threading.Event()

    def writer() -> None:
        with db.transaction() as tx:
            tx.execute("CREATE TABLE t (x INTEGER)")
        wrote.set()

    other = threading.Thread(target=writer, daemon=True)
    other.start()
    try:
        assert wrote.wait(WAIT), "a transaction waited for the holder of the exclusive lock"
    finally:
        release.set()
        thread.join(WAIT)
    db.close()


def test_exclusive_still_excludes_in_memory() -> None:
    db = SQLiteDB(":memory:")
    inside = []
    held, release = threading.Event(), threading.Event()

    def first() -> None:
        with db.exclusive("rebuild"):
            inside.append("first")
            held.set()
            release.wait(WAIT)
            inside.append("first done")

    def second() -> None:
        with db.exclusive("rebuild"):
            inside.append("second")

    a = threading.Thread(target=first)
    a.start()
    assert held.wait(WAIT)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.2)  # a bounded look: the second must still be waiting (it is, while `first` holds)
    assert inside == ["first"]
    release.set()
    a.join(WAIT)
    b.join(WAIT)
    assert inside == ["first", "first done", "second"]
    db.close()
