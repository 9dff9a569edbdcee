"""API fixtures: a FastAPI TestClient over a fresh service on each backend, and tokens per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from domain.actor import Actor
from service.api.main import create_app
from service.app import TrainRec
from service.auth.tokens import issue_token
from tests.conftest import Backend, Clock

SECRET = "test-secret-0123456789-0123456789-abcdef"


def bearer(actor: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, actor)}"}


@pytest.fixture
def service(backend: Backend, clock: Clock) -> Iterator[TrainRec]:
    app = TrainRec(backend.fresh(), clock=clock)
    yield app
    app.close()


@pytest.fixture
def client(service: TrainRec) -> TestClient:
    """Writes go through group commit, as in a server (its lifespan turns it on; this client does
    not run the lifespan). The scope-matrix and fuzz tests build clients without it: the thread-pool
    path, one transaction per command."""
    service.enable_group_commit()
    return TestClient(create_app(service, SECRET), raise_server_exceptions=False)
