"""Every endpoint of API v1 through FastAPI's client: its success and its refusals, on every backend."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import TrainRec
from tests.conftest import ADMIN, AUDITOR, COUNTY_SUP, PROVIDER, SCHOOL_ADMIN, Clock, teacher_actor
from tests.service.api.conftest import bearer

A = bearer(ADMIN)
SESSIONS = [{"no": 1, "on": "2024-03-04", "hours": 8}, {"no": 2, "on": "2024-03-05", "hours": 8},
            {"no": 3, "on": "2024-03-06", "hours": 8.0}]
PROGRAMME = {"code": "K1", "title": "县级骨干教师培训", "level": "county", "form": "concentrated",
             "selection": "self_selected", "hours": 24, "provider_id": "P1", "owner_org_id": "C1",
             "starts_on": "2024-03-04", "ends_on": "2024-03-06", "sessions": SESSIONS}


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    return body


def county(client: TestClient) -> None:
    for org_id, name, kind, parent in [
        ("C1", "示范县", "county", None), ("T1", "城关镇", "town", "C1"), ("S1", "城关第一小学", "school", "T1"),
        ("S3", "河西小学", "school", "T1"), ("P1", "县教师进修学校", "provider", "C1"),
    ]:
        assert client.put(f"/api/v1/orgs/{org_id}", json={"name": name, "kind": kind, "parent_id": parent},
                          headers=A).status_code == 201
    for no, name, school in [("A001", "张伟", "S1"), ("A002", "王芳", "S1"), ("A003", "李娜", "S1")]:
        assert client.post("/api/v1/teachers", json={"teacher_no": no, "name": name, "school_id": school},
                           headers=A).status_code == 201


def test_orgs_and_teachers(client: TestClient) -> None:
    county(client)
    renamed = client.put("/api/v1/orgs/S1", json={"name": "城关一小", "kind": "school", "parent_id": "T1"}, headers=A)
    assert renamed.status_code == 200
    assert [e["type"] for e in renamed.json()["events"]] == ["Renamed"]
    assert client.get("/api/v1/orgs/S1", headers=A).json()["name"] == "城关一小"
    problem(client.post("/api/v1/teachers", json={"teacher_no": "A001", "name": "张伟", "school_id": "S1"},
                        headers=A), 409, "teacher_exists")
    problem(client.post("/api/v1/teachers", json={"teacher_no": "X1", "name": "赵", "school_id": "NOPE"},
                        headers=A), 404, "org_not_found")
    moved = client.post("/api/v1/teachers/A001/transfers", json={"to_school_id": "S3", "effective_on": "2024-02-01"},
                        headers=A)
    assert moved.status_code == 201
    assert moved.json()["events"][0]["teacher_no"] == "A001"
    problem(client.post("/api/v1/teachers/A001/transfers", json={"to_school_id": "S3", "effective_on": "2024-02-30"},
                        headers=A), 422, "invalid_input")
    problem(client.post("/api/v1/teachers/NOPE/transfers", json={"to_school_id": "S3", "effective_on": "2024-02-01"},
                        headers=A), 404, "teacher_not_found")
    history = client.get("/api/v1/teachers/A001/history", headers=A).json()["events"]
    assert [h["type"] for h in history] == ["Registered", "Transferred"]
    assert history[0]["actor"]["sub"] == "admin"


def test_programme_lifecycle_over_http(client: TestClient, clock: Clock) -> None:
    county(client)
    created = client.post("/api/v1/programmes", json=PROGRAMME, headers=bearer(PROVIDER))
    assert created.status_code == 201, created.text
    problem(client.post("/api/v1/programmes", json=PROGRAMME, headers=A), 409, "programme_exists")
    problem(client.post("/api/v1/programmes", json={**PROGRAMME, "code": "K2", "hours": 30}, headers=A),
            422, "session_hours_mismatch")
    problem(client.post("/api/v1/programmes", json={**PROGRAMME, "code": "K2", "level": "galactic"}, headers=A),
            422, "invalid_input")
    assert client.post("/api/v1/programmes/K1/enrolments", json={"teacher_no": "A001"},
                       headers=bearer(teacher_actor("A001"))).status_code == 201
    assert client.post("/api/v1/programmes/K1/enrolments", json={"teacher_no": "A002"}, headers=A).status_code == 201
    assert client.post("/api/v1/programmes/K1/enrolments", json={"teacher_no": "A003"}, headers=A).status_code == 201
    problem(client.post("/api/v1/programmes/K1/enrolments", json={"teacher_no": "A001"}, headers=A),
            409, "already_enrolled")
    leave = client.post("/api/v1/programmes/K1/enrolments/A003/absence", json={"kind": "leave", "reason": "病假"},
                        headers=bearer(SCHOOL_ADMIN))
    assert leave.status_code == 201
    for by, who in (("school", SCHOOL_ADMIN), ("provider", PROVIDER)):
        decided = client.post("/api/v1/programmes/K1/enrolments/A003/absence/approval",
                              json={"by": by, "decision": "approved"}, headers=bearer(who))
        assert decided.status_code == 201
    assert decided.json()["status"] == "approved"
    problem(client.post("/api/v1/programmes/K1/enrolments/A003/absence/approval",
                        json={"by": "school", "decision": "approved"}, headers=A), 409, "absence_already_decided")

    clock.set(date(2024, 3, 4), hour=18)
    sheet = client.post("/api/v1/programmes/K1/sessions/1/attendance",
                        json={"present": ["A001"], "absent": ["A002"]}, headers=bearer(PROVIDER))
    assert [e["type"] for e in sheet.json()["events"]] == ["AttendanceRecorded", "AttendanceRecorded"]
    problem(client.post("/api/v1/programmes/K1/sessions/2/attendance", json={"present": ["A001"]},
                        headers=bearer(PROVIDER)), 409, "session_not_held")
    problem(client.post("/api/v1/programmes/K1/sessions/1/attendance", json={"present": ["A003"]},
                        headers=bearer(PROVIDER)), 409, "absence_approved")

    clock.set(date(2024, 3, 7))
    assessed = client.post("/api/v1/programmes/K1/assessments", json={"teacher_no": "A001", "attitude": 5,
                           "assignments": 4, "result": "excellent"}, headers=bearer(PROVIDER))
    assert assessed.status_code == 201
    problem(client.post("/api/v1/programmes/K1/assessments", json={"teacher_no": "A002", "attitude": 9,
                        "assignments": 4, "result": "pass"}, headers=bearer(PROVIDER)), 422, "invalid_input")
    credit = client.post("/api/v1/programmes/K1/credits", json={"teacher_no": "A001", "hours": 24},
                         headers=bearer(PROVIDER))
    assert credit.status_code == 201
    credit_id = credit.json()["credit_id"]
    problem(client.post("/api/v1/programmes/K1/credits", json={"teacher_no": "A001", "hours": 1},
                        headers=bearer(PROVIDER)), 409, "credit_already_awarded")
    problem(client.post("/api/v1/programmes/K1/credits", json={"teacher_no": "A002", "hours": 30},
                        headers=bearer(PROVIDER)), 409, "hours_exceed_programme")

    trainee = bearer(teacher_actor("A001"))
    hidden = client.get("/api/v1/teachers/A001/transcript", headers=trainee).json()
    assert hidden["lines"] == []
    assert hidden["pending_evaluation"] == ["K1"]
    evaluated = client.post("/api/v1/programmes/K1/evaluations", json={"teacher_no": "A001", "form": 5,
                            "instructors": 5, "management": 4, "comment": "很有收获"}, headers=trainee)
    assert evaluated.status_code == 201
    transcript = client.get("/api/v1/teachers/A001/transcript", headers=trainee).json()
    assert transcript["lines"][0]["credit_id"] == credit_id
    assert transcript["totals"]["by_year"]["2024"]["hours"] == 24

    roster = client.get("/api/v1/programmes/K1/roster", headers=bearer(PROVIDER)).json()
    assert roster["counts"] == {"enrolled": 3, "approved_absences": 1, "attended": 1, "assessed": 1, "evaluated": 1}
    assert roster["participation_rate"] == 0.5
    compliance = client.get("/api/v1/orgs/C1/compliance?year=2024", headers=bearer(COUNTY_SUP)).json()
    assert {f["rule"] for f in compliance["figures"]} == {
        "avg_hours_per_teacher", "avg_self_selected_hours", "share_concentrated_90h", "share_school_based_designated",
        "share_school_based_elective", "participation_rate", "share_cycle_on_track", "overdue_assessments",
        "overdue_evaluations"}
    problem(client.get("/api/v1/orgs/C1/compliance?year=abc", headers=A), 422, "invalid_input")
    problem(client.get("/api/v1/orgs/NOPE/compliance?year=2024", headers=A), 404, "org_not_found")

    revoked = client.post(f"/api/v1/teachers/A001/credits/{credit_id}/revocation", json={"reason": "重复登记"},
                          headers=bearer(COUNTY_SUP))
    assert revoked.status_code == 201
    problem(client.post(f"/api/v1/teachers/A001/credits/{credit_id}/revocation", json={"reason": "再次"},
                        headers=bearer(COUNTY_SUP)), 409, "credit_already_revoked")
    dispute = client.post("/api/v1/teachers/A001/disputes", json={"programme_code": "K1", "claim": "学时被误撤销",
                          "evidence": [{"name": "签到表.jpg", "sha256": "c" * 64}]}, headers=trainee)
    assert dispute.status_code == 201
    dispute_id = dispute.json()["dispute_id"]
    resolved = client.post(f"/api/v1/disputes/{dispute_id}/resolution",
                           json={"decision": "upheld", "reason": "核实无误", "award_hours": 24},
                           headers=bearer(COUNTY_SUP))
    assert [e["type"] for e in resolved.json()["events"]] == ["DisputeResolved", "CreditAwarded"]
    problem(client.post("/api/v1/disputes/D-nope/resolution", json={"decision": "rejected", "reason": "x"},
                        headers=A), 404, "dispute_not_found")

    feed = client.get("/api/v1/audit/events", params={"teacher_no": "A001", "limit": 3}, headers=bearer(AUDITOR))
    page = feed.json()
    assert len(page["events"]) == 3
    assert page["next"] is not None
    rest = client.get("/api/v1/audit/events", params={"teacher_no": "A001", "after": page["next"]},
                      headers=bearer(AUDITOR)).json()
    assert [e["type"] for e in page["events"] + rest["events"]] == [
        h["type"] for h in client.get("/api/v1/teachers/A001/history", headers=A).json()["events"]]
    credits_only = client.get("/api/v1/audit/events", params={"type": "CreditAwarded"}, headers=A).json()["events"]
    assert [e["teacher_no"] for e in credits_only] == ["A001", "A001"]
    problem(client.get("/api/v1/audit/events", params={"type": "Nope"}, headers=A), 422, "unknown_event_type")
    verify = client.get("/api/v1/audit/verify", headers=bearer(AUDITOR)).json()
    assert verify["ok"] is True
    assert verify["first_broken"] is None
    assert verify["checked_events"] > 20


def test_idempotency_key_replays_the_answer_and_records_nothing(client: TestClient, service: TrainRec) -> None:
    county(client)
    headers = {**A, "Idempotency-Key": "import-2024-03-01-line-7"}
    body = {"teacher_no": "B001", "name": "刘洋", "school_id": "S1"}
    first = client.post("/api/v1/teachers", json=body, headers=headers)
    before = service.recorder.max_notification_id()
    again = client.post("/api/v1/teachers", json=body, headers=headers)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert service.recorder.max_notification_id() == before
    problem(client.post("/api/v1/teachers", json={**body, "name": "刘阳"}, headers=headers),
            409, "idempotency_key_reused")


@pytest.mark.parametrize(("method", "path", "content"), [
    ("post", "/api/v1/teachers", b"{not json"),
    ("post", "/api/v1/teachers", b'{"teacher_no": 12, "name": ["x"], "school_id": null}'),
    ("post", "/api/v1/teachers", b"[]"),
    ("put", "/api/v1/orgs/X", b'{"name": "x", "kind": "county", "unexpected": 1}'),
])
def test_malformed_bodies_are_4xx_problems(client: TestClient, method: str, path: str, content: bytes) -> None:
    response = client.request(method, path, content=content, headers={**A, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["code"] in ("malformed_json", "invalid_input")


def test_huge_body_is_refused_before_parsing(client: TestClient, service: TrainRec) -> None:
    before = service.recorder.max_notification_id()
    response = client.post("/api/v1/teachers", json={"teacher_no": "X", "name": "张" * 5_000_000, "school_id": "S1"},
                           headers=A)
    problem(response, 413, "payload_too_large")
    assert service.recorder.max_notification_id() == before


def test_unknown_path_and_method_are_problems(client: TestClient) -> None:
    problem(client.get("/api/v1/nowhere", headers=A), 404, "not_found")
    problem(client.delete("/api/v1/teachers", headers=A), 405, "method_not_allowed")
