"""Lists and search over HTTP: `{"items", "next"}` pages, paging by the `next` cursor, refusals as
problem+json with stable codes, and compliance with named shortfalls and `depth=2`."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.vocabulary import AbsenceKind
from service.app import TrainRec
from tests.conftest import (
    ADMIN,
    AUDITOR,
    COUNTY_SUP,
    PROVIDER,
    SCHOOL_ADMIN,
    Clock,
    build_county,
    define,
    teacher_actor,
)
from tests.service.api.conftest import bearer

PROBLEM = "application/problem+json"


@pytest.fixture
def county(service: TrainRec, clock: Clock) -> TrainRec:
    clock.set(date(2024, 2, 20))
    build_county(service)
    define(service, "K1")
    define(service, "K2", capacity=1)
    service.enrol(ADMIN, "K2", "B001")
    return service


def get(client: TestClient, path: str, actor: Any, **params: Any) -> Any:
    return client.get(path, params=params, headers=bearer(actor))


def problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code


def test_teachers_are_searched_and_paged_over_http(client: TestClient, county: TrainRec) -> None:
    found = get(client, "/api/v1/teachers", COUNTY_SUP, q="娜")
    assert found.status_code == 200
    assert [(i["teacher_no"], i["name"], i["school_name"]) for i in found.json()["items"]] == [
        ("A003", "李娜", "城关第一小学"), ("C002", "欧阳娜娜", "河西小学")]
    assert found.json()["next"] is None
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 4}
    while True:
        page = get(client, "/api/v1/teachers", COUNTY_SUP, **params).json()
        seen += [i["teacher_no"] for i in page["items"]]
        if page["next"] is None:
            break
        params["after"] = page["next"]
    assert seen == ["A001", "A002", "A003", "B001", "C001", "C002"]
    assert [i["teacher_no"] for i in get(client, "/api/v1/teachers", COUNTY_SUP, q="C00").json()["items"]] == [
        "C001", "C002"]


@pytest.mark.parametrize(("path", "params", "code"), [
    ("/api/v1/teachers", {"limit": 0}, "invalid_limit"),
    ("/api/v1/teachers", {"limit": 501}, "invalid_limit"),
    ("/api/v1/teachers", {"limit": "many"}, "invalid_input"),
    ("/api/v1/teachers", {"after": "garbage"}, "invalid_cursor"),
    ("/api/v1/teachers", {"status": "gone"}, "invalid_status"),
    ("/api/v1/programmes", {"level": "village"}, "invalid_filter"),
    ("/api/v1/programmes", {"year": 3000}, "invalid_year"),
    ("/api/v1/programmes", {"open_for_enrolment": "perhaps"}, "invalid_input"),
    ("/api/v1/disputes", {"status": "closed"}, "invalid_status"),
    ("/api/v1/approvals", {"after": "WyJLMSJd"}, "invalid_cursor"),
    ("/api/v1/orgs/C1/compliance", {"year": 2024, "depth": 3}, "invalid_depth"),
])
def test_bad_list_parameters_are_422_with_stable_codes(client: TestClient, county: TrainRec, path: str,
                                                        params: dict[str, Any], code: str) -> None:
    problem(get(client, path, ADMIN, **params), 422, code)


def test_lists_are_refused_outside_the_scope(client: TestClient, county: TrainRec) -> None:
    problem(get(client, "/api/v1/teachers", PROVIDER), 403, "forbidden_scope")
    problem(get(client, "/api/v1/teachers", SCHOOL_ADMIN, org_id="S3"), 403, "forbidden_scope")
    problem(get(client, "/api/v1/disputes", PROVIDER), 403, "forbidden_scope")
    problem(get(client, "/api/v1/approvals", AUDITOR), 403, "forbidden_scope")
    problem(get(client, "/api/v1/approvals", teacher_actor("A001")), 403, "forbidden_scope")
    problem(get(client, "/api/v1/teachers", ADMIN, org_id="NOPE"), 404, "org_not_found")


def test_a_teacher_browses_the_courses_open_to_them(client: TestClient, county: TrainRec) -> None:
    page = get(client, "/api/v1/programmes", teacher_actor("A001"), open_for_enrolment="true").json()
    assert [(i["code"], i["provider_name"], i["owner_name"]) for i in page["items"]] == [
        ("K1", "县教师进修学校", "示范县")]  # K2 is full
    everything = get(client, "/api/v1/programmes", teacher_actor("A001")).json()
    assert [i["code"] for i in everything["items"]] == ["K1", "K2"]
    assert everything["items"][1]["seats_taken"] == 1


def test_disputes_and_approvals_over_http(client: TestClient, county: TrainRec) -> None:
    county.enrol(ADMIN, "K1", "A001")
    county.open_dispute(teacher_actor("A001"), "A001", "K1", "实际参加了全部课时",
                        [{"name": "签到表.pdf", "sha256": "a" * 64}])
    county.request_absence(ADMIN, "K1", "A001", AbsenceKind.LEAVE, "生病")
    disputes = get(client, "/api/v1/disputes", SCHOOL_ADMIN, status="open").json()
    assert [(i["teacher_no"], i["name"], i["status"]) for i in disputes["items"]] == [("A001", "张伟", "open")]
    assert get(client, "/api/v1/disputes", SCHOOL_ADMIN, status="resolved").json() == {"items": [], "next": None}
    approvals = get(client, "/api/v1/approvals", PROVIDER).json()
    assert [(i["kind"], i["side"], i["teacher_no"], i["name"]) for i in approvals["items"]] == [
        ("absence", "provider", "A001", "张伟")]


def test_compliance_names_shortfalls_and_goes_down_to_schools(client: TestClient, county: TrainRec,
                                                              clock: Clock) -> None:
    clock.set(date(2024, 3, 20))  # B001's assessment in K2 (ended 2024-03-06) is overdue
    for _ in range(2):  # computed, then the stored answer
        answer = get(client, "/api/v1/orgs/C1/compliance", COUNTY_SUP, year=2024).json()
        overdue = next(s for s in answer["shortfalls"] if s["rule"] == "overdue_assessments")
        assert overdue["teachers"] == [{"teacher_no": "B001", "name": "刘洋", "school_id": "S2"}]
    deep = get(client, "/api/v1/orgs/C1/compliance", COUNTY_SUP, year=2024, depth=2)
    assert deep.status_code == 200
    assert [[(g["org_id"], g["teachers"]) for g in kid["children"]] for kid in deep.json()["children"]] == [
        [("S1", 3), ("S2", 1)], [("S3", 2)]]
    assert deep.json() == county.compliance(COUNTY_SUP, "C1", 2024, depth=2)
