"""Reports as they stood over HTTP, on every backend: compliance and roster `as_of` a date or an
instant, `compliance/changes`, and their refusals as problem+json."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient

from domain.vocabulary import AssessmentResult
from service.app import TrainRec
from tests.conftest import AUDITOR, PROVIDER, SCHOOL_ADMIN, Clock, build_county, define
from tests.service.api.conftest import bearer

WHY = "据纸质签到表补录"


def _story(service: TrainRec, clock: Clock) -> None:
    """K1 (2024-03-04 … 06, 24 h): A001 credited in March; A002's credit entered late, in May."""
    clock.set(date(2024, 2, 20))
    build_county(service)
    define(service, "K1")
    service.enrol(SCHOOL_ADMIN, "K1", "A001")
    service.enrol(SCHOOL_ADMIN, "K1", "A002")
    clock.set(date(2024, 3, 6), hour=18)
    service.record_attendance(PROVIDER, "K1", 3, ["A001", "A002"], [])
    clock.set(date(2024, 3, 7))
    service.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.PASS)
    service.award_credit(PROVIDER, "K1", "A001", Decimal(24))
    clock.set(date(2024, 5, 10))
    service.assess(PROVIDER, "K1", "A002", 4, 4, AssessmentResult.PASS, occurred_on=date(2024, 3, 7), late_reason=WHY)
    service.award_credit(PROVIDER, "K1", "A002", Decimal(24), occurred_on=date(2024, 3, 8), late_reason=WHY)


def _value(answer: dict[str, object], rule: str) -> object:
    figures = answer["figures"]
    assert isinstance(figures, list)
    return next(f["value"] for f in figures if f["rule"] == rule)


def test_reports_as_they_stood_over_http(client: TestClient, service: TrainRec, clock: Clock) -> None:
    _story(service, clock)
    auditor = bearer(AUDITOR)
    then = client.get("/api/v1/orgs/S1/compliance", params={"year": 2024, "as_of": "2024-04-30"}, headers=auditor)
    assert then.status_code == 200, then.text
    assert then.json()["as_of"] == "2024-04-30T23:59:59.999999+08:00"
    assert _value(then.json(), "avg_hours_per_teacher") == 8.0  # 24 h / 3 teachers
    now = client.get("/api/v1/orgs/S1/compliance", params={"year": 2024}, headers=auditor).json()
    assert _value(now, "avg_hours_per_teacher") == 16.0  # 48 h / 3
    changes = client.get("/api/v1/orgs/S1/compliance/changes", params={"year": 2024, "since": "2024-04-30"},
                         headers=auditor)
    assert changes.status_code == 200, changes.text
    body = changes.json()
    assert [(e["type"], e["teacher_no"], e["occurred_on"], e["late_entry"]) for e in body["events"]] == [
        ("Assessed", "A002", "2024-03-07", True), ("CreditAwarded", "A002", "2024-03-08", True)]
    assert (_value({"figures": body["figures_then"]}, "avg_hours_per_teacher"),
            _value({"figures": body["figures_now"]}, "avg_hours_per_teacher")) == (8.0, 16.0)
    roster = client.get("/api/v1/programmes/K1/roster", params={"as_of": "2024-04-30"}, headers=auditor).json()
    assert [e["assessment"] is not None for e in roster["enrolled"]] == [True, False]  # A002 not assessed then
    early = client.get("/api/v1/programmes/K1/roster", params={"as_of": "2024-01-31"}, headers=auditor)
    assert early.status_code == 404
    assert early.json()["code"] == "programme_not_found"  # defined on 2024-02-20


def test_as_of_refusals_over_http(client: TestClient, service: TrainRec, clock: Clock) -> None:
    _story(service, clock)
    auditor = bearer(AUDITOR)
    for path, params in [
        ("/api/v1/orgs/S1/compliance", {"year": 2024, "as_of": "2024-13-01"}),
        ("/api/v1/orgs/S1/compliance", {"year": 2024, "as_of": "2024-04-30T00:00:00"}),  # no offset
        ("/api/v1/programmes/K1/roster", {"as_of": "yesterday"}),
        ("/api/v1/orgs/S1/compliance/changes", {"year": 2024, "since": "1800-01-01"}),
    ]:
        answer = client.get(path, params=params, headers=auditor)
        assert answer.status_code == 422, (path, params, answer.text)
        assert answer.json()["code"] == "invalid_instant"
    missing = client.get("/api/v1/orgs/S1/compliance/changes", params={"year": 2024}, headers=auditor)
    assert missing.status_code == 422
    assert missing.json()["code"] == "invalid_input"
    outsider = client.get("/api/v1/orgs/S3/compliance/changes", params={"year": 2024, "since": "2024-04-30"},
                          headers=bearer(SCHOOL_ADMIN))
    assert outsider.status_code == 403
    assert outsider.json()["code"] == "forbidden_scope"
