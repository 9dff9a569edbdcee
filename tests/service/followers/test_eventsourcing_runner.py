"""On PostgreSQL, eventsourcing's ProjectionRunner keeps the read model live, exactly once,
side by side with the page-at-a-time catch-up."""

from __future__ import annotations

import pytest

from projections.check import check
from service.app import TrainRec
from service.followers.pg_runner import start_runner
from tests.conftest import ADMIN, Backend, Clock, build_county, require_postgres, run_a_session


@pytest.mark.postgres
def test_projection_runner_applies_every_event_once(tmp_path: object, clock: Clock) -> None:
    require_postgres()
    from pathlib import Path

    app = TrainRec(Backend("postgres", Path(str(tmp_path))).fresh(), clock=clock)
    build_county(app)
    app.read_model.catch_up(until=5)  # the runner starts from a tracked position, not from zero
    runner = start_runner(app)
    try:
        runner.wait(run_a_session(app, clock), timeout=20)
        assert app.read_model.position() == app.read_model.head()
        # A read that catches up itself finds nothing left to apply, and nothing was applied twice.
        roster = app.roster(ADMIN, "K1")
        assert roster["counts"]["enrolled"] == 3
        assert check(app.read_model)[1] == []
        app.enrol(ADMIN, "K1", "B001")
        app.read_model.catch_up()  # the catch-up loop may win the race for this one
        runner.wait(app.read_model.head(), timeout=20)
        assert check(app.read_model)[1] == []
    finally:
        runner.stop()
        app.close()


@pytest.mark.postgres
def test_server_on_postgres_keeps_the_read_model_live(tmp_path: object, clock: Clock) -> None:
    require_postgres()
    from pathlib import Path

    from fastapi.testclient import TestClient

    from service.api.main import create_app
    from tests.service.api.conftest import SECRET, bearer

    app = TrainRec(Backend("postgres", Path(str(tmp_path))).fresh(), clock=clock)
    build_county(app)
    with TestClient(create_app(app, SECRET)) as client:
        assert client.get("/healthz").json()["read_model_position"] == app.read_model.head()
        answer = client.post("/api/v1/teachers", json={"teacher_no": "Z001", "name": "赵云", "school_id": "S1"},
                             headers=bearer(ADMIN))
        assert answer.status_code == 201
        position = int(answer.headers["Trainrec-Position"])
        app.read_model.wait_for(position, timeout=20)
        assert client.get("/api/v1/teachers/Z001/transcript", headers=bearer(ADMIN)).json()["name"] == "赵云"
    assert check(app.read_model)[1] == []
    app.close()
