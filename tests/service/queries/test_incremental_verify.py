"""Verification is incremental (docs/tamper-evidence.md): a call checks the events recorded since
the last one, linking them to the aggregates' heads remembered beside the read model; `full` checks
the whole log again; one verification runs at a time, and a call arriving meanwhile shares its
result. On SQLite and PostgreSQL, tampering done directly in the event table."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.errors import Unavailable
from domain.ids import event_id, teacher_uuid
from domain.vocabulary import OrgKind
from service.api.main import create_app
from service.app import TrainRec
from service.queries import verify as verify_module
from service.queries.verify import ChainVerifier, Verification
from service.storage.config import Storage
from tests.conftest import ADMIN, AUDITOR, COUNTY_SUP, Backend, Clock
from tests.service.api.conftest import SECRET, bearer
from tests.service.queries.test_tamper_evidence import StoredBytes, _flip, _history, _uuid_key


@pytest.fixture
def recorded(durable_backend: Backend, clock: Clock) -> Iterator[tuple[TrainRec, Storage]]:
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    _history(app, clock)
    yield app, storage
    app.close()


def _three_new_events(app: TrainRec) -> None:
    """One event each: a new school's registration and two teachers'."""
    app.put_org(ADMIN, "S4", "新学校", OrgKind.SCHOOL, "T1")
    app.register_teacher(ADMIN, "N001", "新教师甲", "S4", date(2020, 9, 1))
    app.register_teacher(ADMIN, "N002", "新教师乙", "S4", date(2020, 9, 1))


def test_an_incremental_verify_checks_only_the_events_recorded_since_the_last(
        recorded: tuple[TrainRec, Storage]) -> None:
    app, _ = recorded
    head = app.recorder.max_notification_id() or 0
    first = app.verify(AUDITOR)
    assert first == Verification(True, head, None, 0, head, True)  # nothing remembered yet: the whole log
    _three_new_events(app)
    assert app.recorder.max_notification_id() == head + 3
    second = app.verify(AUDITOR)
    assert second == Verification(True, 3, None, head, head + 3, False)
    assert second.as_dict() == {"ok": True, "checked_events": 3, "first_broken": None,
                                "from_position": head, "to_position": head + 3, "full": False}
    assert app.verify(AUDITOR) == Verification(True, 0, None, head + 3, head + 3, False)
    assert app.verify(AUDITOR, full=True) == Verification(True, head + 3, None, 0, head + 3, True)


def test_tampering_with_a_verified_event_is_caught_by_the_full_run_not_the_incremental_one(
        recorded: tuple[TrainRec, Storage]) -> None:
    app, storage = recorded
    assert app.verify(ADMIN).ok
    key = _uuid_key(storage, "A001")
    stored = StoredBytes(storage)
    stored.write(key, 2, _flip(stored.read(key, 2), 10))  # the Enrolled event, verified above
    app.register_teacher(ADMIN, "N001", "新教师", "S1", date(2020, 9, 1))
    head = app.recorder.max_notification_id() or 0
    # the documented limitation: an incremental run trusts what was verified before
    incremental = app.verify(ADMIN)
    assert (incremental.ok, incremental.checked_events, incremental.full) == (True, 1, False)
    full = app.verify(ADMIN, full=True)
    assert full.ok is False
    assert full.full is True
    assert full.first_broken is not None
    assert full.first_broken.event_id == event_id(teacher_uuid("A001"), 2)
    assert full.to_position == full.first_broken.notification_id < head
    # the full run forgot what it could no longer vouch for: incremental runs find the break again
    again = app.verify(ADMIN)
    assert again.full is False
    assert again.first_broken == full.first_broken
    assert again.from_position == full.first_broken.notification_id - 1
    assert again.checked_events == 1


class WatchedLock:
    """The verifier's lock, telling when a second caller started waiting for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting = threading.Event()

    def acquire(self, timeout: float = -1) -> bool:
        if self.lock.acquire(blocking=False):
            return True
        self.waiting.set()
        return self.lock.acquire(timeout=timeout)

    def release(self) -> None:
        self.lock.release()


@pytest.fixture
def held_run(recorded: tuple[TrainRec, Storage], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The chain check counted, and held until `release` is set, once it started."""
    app, _ = recorded
    verifier = app.chain_verifier
    watched = WatchedLock()
    monkeypatch.setattr(verifier, "_lock", watched)
    calls: list[int] = []
    started, release = threading.Event(), threading.Event()
    check = verify_module.check_events

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        started.set()
        assert release.wait(timeout=60)
        return check(*args, **kwargs)

    monkeypatch.setattr(verify_module, "check_events", counted)
    yield {"app": app, "verifier": verifier, "calls": calls, "started": started, "release": release,
           "waiting": watched.waiting}
    release.set()


def test_two_concurrent_verifies_run_the_chain_once_and_share_the_answer(held_run: dict[str, Any]) -> None:
    app: TrainRec = held_run["app"]
    answers: list[Verification] = []
    first = threading.Thread(target=lambda: answers.append(app.verify(AUDITOR)))
    first.start()
    assert held_run["started"].wait(timeout=30)
    second = threading.Thread(target=lambda: answers.append(app.verify(ADMIN)))
    second.start()
    assert held_run["waiting"].wait(timeout=30)  # the second is waiting for the first
    held_run["release"].set()
    first.join()
    second.join()
    assert len(held_run["calls"]) == 1
    assert len(answers) == 2
    assert answers[0] is answers[1]
    assert answers[0].ok
    assert answers[0].checked_events == app.recorder.max_notification_id()


def test_a_verify_that_cannot_wait_for_the_running_one_is_503_verify_in_progress(held_run: dict[str, Any]) -> None:
    app: TrainRec = held_run["app"]
    verifier: ChainVerifier = held_run["verifier"]
    verifier.wait = 0.2
    first = threading.Thread(target=lambda: app.verify(AUDITOR))
    first.start()
    assert held_run["started"].wait(timeout=30)
    with pytest.raises(Unavailable) as busy:
        app.verify(ADMIN, full=True)
    assert busy.value.code == "verify_in_progress"
    client = TestClient(create_app(app, SECRET, catch_up=False), raise_server_exceptions=False)
    response = client.get("/api/v1/audit/verify", params={"full": "true"}, headers=bearer(AUDITOR))
    assert response.status_code == 503
    assert response.json()["code"] == "verify_in_progress"
    assert response.headers["Retry-After"] == "5"
    held_run["release"].set()
    first.join()
    assert len(held_run["calls"]) == 1


def test_the_verified_position_survives_a_new_application(durable_backend: Backend, clock: Clock) -> None:
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    _history(app, clock)
    head = app.recorder.max_notification_id() or 0
    assert app.verify(AUDITOR).checked_events == head
    _three_new_events(app)
    app.close()
    again = TrainRec(storage, clock=clock)
    try:
        assert again.verify(AUDITOR) == Verification(True, 3, None, head, head + 3, False)
        # what is remembered is derived: without it, the next run checks the whole log again
        with again.read_model.db.transaction() as tx:
            tx.execute("DROP TABLE verify_heads")
            tx.execute("DROP TABLE verify_state")
        assert again.verify(AUDITOR) == Verification(True, head + 3, None, 0, head + 3, True)
    finally:
        again.close()


def test_a_full_verify_over_http_is_for_admins_and_auditors_and_says_what_it_covered(
        recorded: tuple[TrainRec, Storage]) -> None:
    app, _ = recorded
    head = app.recorder.max_notification_id() or 0
    client = TestClient(create_app(app, SECRET, catch_up=False), raise_server_exceptions=False)
    incremental = client.get("/api/v1/audit/verify", headers=bearer(AUDITOR)).json()
    assert incremental == {"ok": True, "checked_events": head, "first_broken": None, "from_position": 0,
                           "to_position": head, "full": True, "scope": "chain", "read_model": None}
    full = client.get("/api/v1/audit/verify", params={"full": "true"}, headers=bearer(ADMIN)).json()
    assert (full["full"], full["checked_events"], full["from_position"]) == (True, head, 0)
    assert client.get("/api/v1/audit/verify", headers=bearer(ADMIN)).json()["checked_events"] == 0
    refused = client.get("/api/v1/audit/verify", params={"full": "true"}, headers=bearer(COUNTY_SUP))
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden_scope")
