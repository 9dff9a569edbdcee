"""Server workers start together: constructing the application and its read model from several
processes (here threads, each with its own connections) at once on a new store must not fail."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from service.app import TrainRec
from service.storage.config import Storage
from service.storage.locks import one_at_a_time
from tests.conftest import Backend, require_postgres


@pytest.mark.postgres
def test_one_at_a_time_serialises_the_block_across_connections(tmp_path: Path) -> None:
    require_postgres()
    storage = Backend("postgres", tmp_path).fresh()
    inside = threading.Event()
    order: list[str] = []

    def first() -> None:
        with one_at_a_time(storage, "test"):
            inside.set()
            time.sleep(0.3)  # holding the lock while the second tries to take it
            order.append("first leaves")

    def second() -> None:
        inside.wait(5)
        with one_at_a_time(storage, "test"):
            order.append("second enters")

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(first), pool.submit(second)]:
            future.result(timeout=20)
    assert order == ["first leaves", "second enters"]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_workers_starting_together_on_a_new_store(tmp_path: Path, kind: str) -> None:
    if kind == "postgres":
        require_postgres()
    for _ in range(3):
        storage = Backend(kind, tmp_path).fresh()
        start = threading.Barrier(4)
        with ThreadPoolExecutor(4) as pool:
            positions = [f.result(timeout=60) for f in [pool.submit(start_worker, storage, start) for _ in range(4)]]
        assert positions == [0, 0, 0, 0]


def start_worker(storage: Storage, start: threading.Barrier) -> int:
    """What a server worker does first: construct the application and its read model."""
    start.wait(10)
    app = TrainRec(storage)
    try:
        return app.read_model.position()
    finally:
        app.close()
