"""On PostgreSQL, eventsourcing's ProjectionRunner can keep the read model live, exactly once,
side by side with the page-at-a-time catch-up (servers use the LISTEN follower: service/followers/follow.py)."""

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
