"""With the store away, requests answer 503 `store_unavailable` at once, and /healthz says degraded."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient

from domain.actor import Actor
from domain.vocabulary import Role
from service.api.main import create_app
from service.app import TrainRec
from service.storage.availability import StoreMonitor
from tests.service.api.conftest import SECRET, bearer

ADMIN = bearer(Actor("admin", Role.ADMIN))


class Away:
    def __init__(self) -> None:
        self.away = False

    def __call__(self) -> None:
        if self.away:
            raise ConnectionRefusedError("connection refused")


def test_requests_are_refused_at_once_while_the_monitor_finds_the_store_down(service: TrainRec) -> None:
    store = Away()
    with TestClient(create_app(service, SECRET), raise_server_exceptions=False) as client:
        monitor = StoreMonitor(store)
        client.app.state.store_monitor = monitor  # type: ignore[attr-defined]
        assert client.get("/healthz").json()["status"] == "ok"
        store.away = True
        monitor.check_now()
        answer = client.get("/api/v1/teachers/T1/transcript", headers=ADMIN)
        assert answer.status_code == 503
        assert answer.json()["code"] == "store_unavailable"
        assert answer.headers["Retry-After"] == "2"
        assert answer.headers["content-type"] == "application/problem+json"
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert health.json()["problems"] == ["store_unreachable"]
        assert health.json()["store"]["last_error"] == "ConnectionRefusedError: connection refused"
        assert client.get("/healthz/ready").status_code == 503
        assert client.get("/healthz/live").json() == {"live": True}
        store.away = False
        monitor.check_now()
        assert client.get("/api/v1/teachers/T1/transcript", headers=ADMIN).json()["code"] == "teacher_not_found"
        assert client.get("/healthz").status_code == 200


def test_a_store_error_inside_a_request_answers_503_and_wakes_the_monitor(
        service: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(TrainRec, "transcript", broken)
    with TestClient(create_app(service, SECRET), raise_server_exceptions=False) as client:
        monitor = StoreMonitor(lambda: None, every_up=3600)
        client.app.state.store_monitor = monitor  # type: ignore[attr-defined]
        answer = client.get("/api/v1/teachers/T1/transcript", headers=ADMIN)
        assert answer.status_code == 503
        assert answer.json()["code"] == "store_unavailable"
        assert monitor.status().failures == 1
        assert monitor.status().last_error == "OperationalError: server closed the connection unexpectedly"


def test_healthz_reports_the_read_model_behind_the_log(service: TrainRec) -> None:
    with TestClient(create_app(service, SECRET, catch_up=False), raise_server_exceptions=False) as client:
        body = client.get("/healthz").json()
        assert (body["events"], body["read_model_position"], body["lag"]) == (0, 0, 0)
        assert body["live"] is True
        assert body["ready"] is True
