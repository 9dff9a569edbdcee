"""Keeping the read model live: the LISTEN follower (a server's own on PostgreSQL, and
`trainrec projections follow` in a process of its own for servers run with TRAINREC_PROJECTOR=separate)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from projections.check import check
from service.app import TrainRec
from service.followers import follow as follow_module
from service.followers.follow import ListeningFollower, follow
from tests.conftest import ADMIN, Backend, Clock, build_county, require_postgres, run_a_session

ROOT = Path(__file__).resolve().parents[3]


def reaches(app: TrainRec, position: int, timeout: float = 30.0) -> bool:
    """Whether the read model's tracked notification id reaches `position` (applied by someone
    else: this only reads the tracking row) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while app.read_model.position() < position:
        if time.monotonic() > deadline:
            return False
        pause.wait(0.02)
    return True


@pytest.mark.postgres
def test_the_listening_follower_applies_every_event_once_as_it_is_recorded(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_postgres()
    # its periodic wake-up out of the way: within the waits below only a NOTIFY can wake it
    monkeypatch.setattr(follow_module, "WAKE_AT_LEAST_EVERY", 120.0)
    app = TrainRec(Backend("postgres", tmp_path).fresh(), clock=clock)
    build_county(app)  # recorded before the follower starts: it begins with a catch-up
    follower = follow(app)
    assert isinstance(follower, ListeningFollower)
    try:
        assert follower.wait(app.read_model.head(), timeout=20)
        assert follower.wait(run_a_session(app, clock), timeout=20)  # woken by the writes' NOTIFY
        assert app.read_model.position() == app.read_model.head()
        assert check(app.read_model)[1] == []
        app.enrol(ADMIN, "K1", "B001")
        app.read_model.catch_up()  # a read's own catch-up may win the race for this one
        assert follower.wait(app.read_model.head(), timeout=20)
        assert check(app.read_model)[1] == []
        assert follower.status().failures == 0
        assert follower.status().last_error is None
    finally:
        follower.stop()
        app.close()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_trainrec_projections_follow_keeps_the_read_model_live_until_stopped(
    kind: str, tmp_path: Path, clock: Clock
) -> None:
    if kind == "postgres":
        require_postgres()
    storage = Backend(kind, tmp_path).fresh()
    app = TrainRec(storage, clock=clock)
    build_county(app)
    env = {**os.environ, "TRAINREC_DATABASE_URL": storage.url, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "service.cli", "projections", "follow"], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert "following the log" in process.stdout.readline()  # caught up, now following
        assert app.read_model.position() == app.read_model.head()
        result = app.register_teacher(ADMIN, "F001", "冯一", "S1")
        assert result.notification_id is not None
        assert reaches(app, result.notification_id)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert check(app.read_model)[1] == []
    app.close()


def test_a_server_run_with_a_separate_projector_follows_nothing_itself(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from service.api.main import create_app
    from tests.service.api.conftest import SECRET, bearer

    monkeypatch.setenv("TRAINREC_PROJECTOR", "separate")
    app = TrainRec(Backend("sqlite", tmp_path).fresh(), clock=clock)
    build_county(app)
    with TestClient(create_app(app, SECRET)) as client:
        answer = client.post("/api/v1/teachers", json={"teacher_no": "Z001", "name": "赵云", "school_id": "S1"},
                             headers=bearer(ADMIN))
        assert answer.status_code == 201
        assert client.get("/healthz").json()["read_model_position"] == 0  # no follower in this process
        # a read still sees the writes before it: it catches up itself
        assert client.get("/api/v1/teachers/Z001/transcript", headers=bearer(ADMIN)).json()["name"] == "赵云"
    app.close()


@pytest.mark.postgres
def test_server_on_postgres_keeps_the_read_model_live_with_the_listening_follower(tmp_path: Path, clock: Clock) -> None:
    require_postgres()
    from fastapi.testclient import TestClient

    from service.api.main import create_app
    from tests.service.api.conftest import SECRET, bearer

    app = TrainRec(Backend("postgres", tmp_path).fresh(), clock=clock)
    build_county(app)
    with TestClient(create_app(app, SECRET)) as client:
        assert client.get("/healthz").json()["read_model_position"] == app.read_model.head()
        assert any(isinstance(thread, ListeningFollower) for thread in threading.enumerate())
        answer = client.post("/api/v1/teachers", json={"teacher_no": "Z001", "name": "赵云", "school_id": "S1"},
                             headers=bearer(ADMIN))
        assert answer.status_code == 201
        assert reaches(app, int(answer.headers["Trainrec-Position"]))  # applied by the server's follower
        assert client.get("/api/v1/teachers/Z001/transcript", headers=bearer(ADMIN)).json()["name"] == "赵云"
    assert check(app.read_model)[1] == []
    app.close()


@pytest.mark.postgres
def test_trainrec_projections_follow_heals_when_its_connections_are_killed(tmp_path: Path, clock: Clock) -> None:
    require_postgres()
    from tests.service.followers.test_healing import kill

    storage = Backend("postgres", tmp_path).fresh()
    app = TrainRec(storage, clock=clock)
    build_county(app)
    env = {**os.environ, "TRAINREC_DATABASE_URL": storage.url, "PYTHONPATH": str(ROOT)}
    log = tmp_path / "follow.log"
    with log.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "service.cli", "projections", "follow"], env=env, cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert process.stdout is not None
        assert "following the log" in process.stdout.readline()
        schema = storage.env["POSTGRES_SCHEMA"]
        assert kill([f"trainrec-follow:{schema}", f"trainrec-read-model:{schema}"]) >= 1
        result = app.register_teacher(ADMIN, "F001", "冯一", "S1")
        assert result.notification_id is not None
        assert reaches(app, result.notification_id)  # nothing but the follower applies it
        deadline = time.monotonic() + 30
        while "recovered after" not in log.read_text() and time.monotonic() < deadline:
            threading.Event().wait(0.05)
        told = log.read_text()
        assert "WARNING trainrec.follower: trainrec-follow: " in told
        assert "recovered after" in told
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert check(app.read_model)[1] == []
    app.close()
