"""GET /orgs/{id}/compliance sends the read model's JSON text as it is (a county's stored answer is
not parsed and written out again): the same answer as the service's, for a stored answer, a
computed one and a school's, and with the freshness a lagging read model adds."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import TrainRec
from tests.conftest import ADMIN, COUNTY_SUP, Clock, build_county, define
from tests.service.api.conftest import bearer

A = bearer(ADMIN)


@pytest.fixture
def county(service: TrainRec, clock: Clock) -> TrainRec:
    clock.set(date(2024, 2, 20))
    build_county(service)
    define(service, "P90", starts_on=date(2024, 3, 4), days=3)
    service.enrol(ADMIN, "P90", "A001")
    clock.set(date(2024, 3, 20))  # its assessment is overdue: a figure not met, a teacher listed
    return service


def test_the_http_answer_is_the_services(client: TestClient, county: TrainRec) -> None:
    computed = client.get("/api/v1/orgs/C1/compliance?year=2024", headers=bearer(COUNTY_SUP))
    assert computed.status_code == 200
    assert computed.headers["content-type"] == "application/json"
    stored = client.get("/api/v1/orgs/C1/compliance?year=2024", headers=bearer(COUNTY_SUP))  # from rm_unit_years
    expected = county.compliance(COUNTY_SUP, "C1", 2024)
    assert computed.json() == stored.json() == expected
    assert stored.json()["name"] == "示范县"
    assert {"rule": "overdue_assessments", "count": 1, "teacher_nos": ["A001"],
            "teachers": [{"teacher_no": "A001", "name": "张伟", "school_id": "S1"}], "teachers_next": None,
            } in stored.json()["shortfalls"]
    assert "示范县" in stored.text  # UTF-8 as it is, not \\u escapes
    school = client.get("/api/v1/orgs/S1/compliance?year=2024", headers=A)
    assert school.json() == county.compliance(ADMIN, "S1", 2024)


def test_a_lagging_read_model_says_so_in_the_same_answer(
    client: TestClient, county: TrainRec, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.get("/api/v1/orgs/C1/compliance?year=2024", headers=A)  # stored
    reports, _ = county.fresh_reports()
    lag: dict[str, Any] = {"stale": {"position": 7, "head": 9}}
    monkeypatch.setattr(type(county), "fresh_reports", lambda _self: (reports, lag))
    for org_id in ("C1", "S1"):
        answer = client.get(f"/api/v1/orgs/{org_id}/compliance?year=2024", headers=A)
        assert answer.status_code == 200
        assert answer.json() == county.compliance(ADMIN, org_id, 2024)
        assert answer.json()["stale"] == {"position": 7, "head": 9}


def test_refusals_stay_problems(client: TestClient, county: TrainRec) -> None:
    for path, status, code in (("/api/v1/orgs/NOPE/compliance?year=2024", 404, "org_not_found"),
                               ("/api/v1/orgs/C1/compliance?year=1900", 422, "invalid_input")):
        answer = client.get(path, headers=A)
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == code


def test_a_shortfall_is_paged_through_http(client: TestClient, county: TrainRec) -> None:
    first = client.get("/api/v1/orgs/C1/compliance/shortfalls",
                       params={"year": 2024, "rule": "avg_hours_per_teacher", "limit": 4}, headers=bearer(COUNTY_SUP))
    assert first.status_code == 200, first.text
    assert [t["teacher_no"] for t in first.json()["items"]] == ["A001", "A002", "A003", "B001"]
    assert first.json()["items"][0] == {"teacher_no": "A001", "name": "张伟", "school_id": "S1"}
    rest = client.get("/api/v1/orgs/C1/compliance/shortfalls",
                      params={"year": 2024, "rule": "avg_hours_per_teacher", "after": first.json()["next"]},
                      headers=bearer(COUNTY_SUP))
    assert [(t["teacher_no"], t["name"]) for t in rest.json()["items"]] == [("C001", "陈静"), ("C002", "欧阳娜娜")]
    assert rest.json()["next"] is None
    then = client.get("/api/v1/orgs/C1/compliance/shortfalls",
                      params={"year": 2024, "rule": "overdue_assessments", "as_of": "2024-03-01"}, headers=A)
    assert then.json()["items"] == []  # nothing was overdue then
    assert then.json()["as_of"].startswith("2024-03-01T23:59:59")
    for params, code in (({"year": 2024, "rule": "nine"}, "invalid_rule"),
                         ({"year": 2024, "rule": "avg_hours_per_teacher", "limit": 0}, "invalid_limit"),
                         ({"year": 2024, "rule": "avg_hours_per_teacher", "after": "x"}, "invalid_cursor")):
        refused = client.get("/api/v1/orgs/C1/compliance/shortfalls", params=params, headers=A)
        assert (refused.status_code, refused.json()["code"]) == (422, code)
