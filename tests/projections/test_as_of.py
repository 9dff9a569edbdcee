"""Every report as it stood: for random command sequences with random effective dates, compliance
(county, towns, schools) and rosters `as_of` an instant T equal the same reports computed, at T, by
a store holding only the events recorded up to T. On memory, SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from service.app import TrainRec
from service.storage.config import storage_from_url
from tests.conftest import ADMIN, Backend, Clock
from tests.projections.random_commands import run, setup

VOLATILE = ("as_of", "stale")


def _report(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in VOLATILE}


def _as_recorded_by(app: TrainRec, at: datetime) -> TrainRec:
    """A store of its own holding the events `app` recorded up to `at`, its clock stopped at `at`."""
    copy = TrainRec(storage_from_url("memory://"), clock=lambda: at)
    stored = []
    for notification in app.recorder.select_notifications(start=1, limit=1_000_000):
        event = app.mapper.to_domain_event(notification)
        if event.timestamp <= at:
            stored.append(StoredEvent(notification.originator_id, notification.originator_version,
                                      notification.topic, notification.state))
    copy.recorder.insert_events(stored)
    copy.read_model.catch_up()
    return copy


def _roster_or_refusal(app: TrainRec, code: str, at: datetime | None = None) -> dict[str, Any] | str:
    try:
        return app.roster(ADMIN, code, as_of=at)
    except DomainError as refusal:
        return refusal.code


def _instants(rng: random.Random, start: datetime, end: datetime, count: int) -> list[datetime]:
    span = int((end - start).total_seconds())
    return sorted(start + timedelta(seconds=rng.randint(0, span)) for _ in range(count))


@settings(max_examples=4, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), commands=st.integers(min_value=150, max_value=500))
def test_a_report_as_of_an_instant_is_the_report_of_the_events_recorded_by_then(
    backend: Backend, clock: Clock, seed: int, commands: int
) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    try:
        codes = setup(app, clock)
        start = clock.now
        rng = random.Random(seed)
        run(app, clock, codes, rng, commands)
        app.read_model.catch_up()
        now = {org_id: _report(app.compliance(ADMIN, org_id, 2024)) for org_id in ("C1", "T1", "S1", "S3")}
        moved = False  # some report as of an earlier instant differs from today's: history is exercised
        for at in [*_instants(rng, start, clock.now, 3), clock.now]:
            then = _as_recorded_by(app, at)
            try:
                for org_id in ("C1", "T1", "S1", "S3"):
                    for year in (2023, 2024):
                        report = _report(app.compliance(ADMIN, org_id, year, as_of=at))
                        assert report == _report(then.compliance(ADMIN, org_id, year)), (org_id, year, at)
                        moved = moved or (year == 2024 and report != now[org_id])
                for code in rng.sample(codes, 4):
                    if _roster_or_refusal(then, code) == "programme_not_found":  # not defined by then
                        assert _roster_or_refusal(app, code, at) == "programme_not_found"
                        continue
                    expected = then.roster(ADMIN, code)
                    assert _report(app.roster(ADMIN, code, as_of=at)) == _report(expected), (code, at)
            finally:
                then.close()
        assert moved
    finally:
        app.close()


def test_a_report_as_of_now_is_the_report_of_now(backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    try:
        codes = setup(app, clock)
        run(app, clock, codes, random.Random(7), 400)
        app.read_model.catch_up()
        for org_id in ("C1", "T2", "S2"):
            assert _report(app.compliance(ADMIN, org_id, 2024, as_of=clock.now)) == _report(
                app.compliance(ADMIN, org_id, 2024))
        for code in codes[:6]:
            assert _report(app.roster(ADMIN, code, as_of=clock.now + timedelta(days=9))) == _report(
                app.roster(ADMIN, code))  # a later instant is now: nothing later is known
    finally:
        app.close()
