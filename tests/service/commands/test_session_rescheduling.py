"""POST …/sessions/{no}/reschedule: the provider moves a session not yet held; marks, rosters and the
audit feed follow the new day. On memory, SQLite and PostgreSQL, and through the API."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from service.api.main import create_app
from service.app import TrainRec
from tests.conftest import (
    ADMIN,
    AUDITOR,
    COUNTY_SUP,
    OTHER_PROVIDER,
    PROVIDER,
    Clock,
    build_county,
    define,
    teacher_actor,
)
from tests.helpers import refused
from tests.service.api.conftest import SECRET, bearer


def _programme(app: TrainRec, clock: Clock) -> None:
    clock.set(date(2024, 2, 20))
    build_county(app)
    define(app, "K1")  # sessions 1, 2, 3 on 2024-03-04, 03-05, 03-06; provider P1
    app.enrol(ADMIN, "K1", "A001")


def test_a_rescheduled_session_is_marked_on_its_new_day(app: TrainRec, clock: Clock) -> None:
    _programme(app, clock)
    answer = app.reschedule_session(PROVIDER, "K1", 1, date(2024, 3, 6), "讲师临时有事")
    assert answer.status == 201
    assert answer.body["on"] == "2024-03-06"
    assert [e["type"] for e in answer.body["events"]] == ["SessionRescheduled"]
    clock.set(date(2024, 3, 4), hour=18)  # the old day: session 1 is no longer held today
    with refused(app, "session_not_held"):
        app.record_attendance(PROVIDER, "K1", 1, ["A001"], [])
    assert app.roster(PROVIDER, "K1")["sessions_held"] == 0  # session 1 moved away, 2 is tomorrow
    clock.set(date(2024, 3, 6), hour=18)
    assert app.record_attendance(PROVIDER, "K1", 1, ["A001"], []).status == 201
    assert app.roster(PROVIDER, "K1")["sessions_held"] == 3


def test_who_may_reschedule(app: TrainRec, clock: Clock) -> None:
    _programme(app, clock)
    for outsider in (OTHER_PROVIDER, teacher_actor("A001"), AUDITOR):
        with refused(app, "forbidden_scope"):
            app.reschedule_session(outsider, "K1", 2, date(2024, 3, 6), "改期")
    assert app.reschedule_session(COUNTY_SUP, "K1", 2, date(2024, 3, 6), "改期").status == 201
    assert app.reschedule_session(ADMIN, "K1", 3, date(2024, 3, 5), "改期").status == 201


def test_a_held_session_stays_where_it_was(app: TrainRec, clock: Clock) -> None:
    _programme(app, clock)
    clock.set(date(2024, 3, 5))
    with refused(app, "session_held"):
        app.reschedule_session(PROVIDER, "K1", 1, date(2024, 3, 6), "改期")
    with refused(app, "session_not_found"):
        app.reschedule_session(PROVIDER, "K1", 9, date(2024, 3, 6), "改期")
    with refused(app, "programme_not_found"):
        app.reschedule_session(ADMIN, "NOPE", 1, date(2024, 3, 6), "改期")


def test_over_http_with_its_codes(app: TrainRec, clock: Clock) -> None:
    _programme(app, clock)
    client = TestClient(create_app(app, SECRET), raise_server_exceptions=False)
    provider = bearer(PROVIDER)
    path = "/api/v1/programmes/K1/sessions/2/reschedule"
    answer = client.post(path, json={"on": "2024-03-06", "reason": "讲师临时有事"}, headers=provider)
    assert answer.status_code == 201
    assert answer.json()["session_no"] == 2
    for body, status, code in (({"on": "2024-03-06", "reason": "改期"}, 422, "session_unchanged"),
                               ({"on": "2024-03-07", "reason": "改期"}, 422, "session_outside_programme"),
                               ({"on": "2024-03-05", "reason": ""}, 422, "reason_required"),
                               ({"on": "2024-03-05"}, 422, "invalid_input")):
        refusal = client.post(path, json=body, headers=provider)
        assert (refusal.status_code, refusal.json()["code"]) == (status, code), refusal.text
    other = client.post(path, json={"on": "2024-03-05", "reason": "改期"}, headers=bearer(OTHER_PROVIDER))
    assert (other.status_code, other.json()["code"]) == (403, "forbidden_scope")
    feed = client.get("/api/v1/audit/events", params={"type": "SessionRescheduled"}, headers=bearer(ADMIN))
    assert feed.status_code == 200, feed.text
    moved = feed.json()["events"]
    assert [(e["type"], e["reason"]) for e in moved] == [("SessionRescheduled", "讲师临时有事")]
