"""A server process freezes its start-up heap once started (service/api/heap.py); a test client or an
embedder of `create_app` does not touch the collector of its process."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.api.heap import YOUNG_THRESHOLD
from service.api.main import create_app
from service.app import TrainRec
from tests.service.api.conftest import SECRET


@pytest.fixture
def collector() -> Iterator[None]:
    """Leave the test process's collector as it was."""
    threshold = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_a_server_freezes_its_start_up_heap_once_started(service: TrainRec, collector: None) -> None:
    app = create_app(service, SECRET, catch_up=False, server=True)
    assert gc.get_freeze_count() == 0  # not while the app is only being built
    with TestClient(app) as client:  # runs the lifespan, as uvicorn does
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert client.get("/healthz").status_code == 200


def test_an_app_that_is_not_a_server_leaves_the_collector_alone(service: TrainRec, collector: None) -> None:
    threshold = gc.get_threshold()
    with TestClient(create_app(service, SECRET, catch_up=False)) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == threshold


def test_trainrec_serve_runs_the_app_as_a_server(monkeypatch: pytest.MonkeyPatch, collector: None) -> None:
    import uvicorn

    from service.cli.main import main

    frozen: list[int] = []

    def run(app: object, **_: object) -> None:  # instead of serving: start the app as uvicorn would
        with TestClient(app):  # type: ignore[arg-type]
            frozen.append(gc.get_freeze_count())

    monkeypatch.setenv("TRAINREC_DATABASE_URL", "memory://")
    monkeypatch.setenv("TRAINREC_SECRET", SECRET)
    monkeypatch.setattr(uvicorn, "run", run)
    assert main(["serve"]) == 0
    assert len(frozen) == 1
    assert frozen[0] > 0
