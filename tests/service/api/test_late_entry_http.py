"""Effective dates over HTTP, on every backend: `occurred_on` and `late_reason` on the writes about a
teacher's record, the three refusals as problem+json, and the audit feed's `late_entry` filter."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from service.app import TrainRec
from tests.conftest import ADMIN, AUDITOR, PROVIDER, SCHOOL_ADMIN, Clock, build_county, define, teacher_actor
from tests.service.api.conftest import bearer

WHY = "据2024年春季签到表补录"


def _may(service: TrainRec, clock: Clock) -> None:
    clock.set(date(2024, 2, 20))
    build_county(service)
    define(service, "K1")  # 2024-03-04 … 03-06, provider P1
    define(service, "K2", starts_on=date(2024, 6, 3))
    clock.set(date(2024, 5, 10))


def _problem(answer: object, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    assert answer.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    assert answer.json()["code"] == code  # type: ignore[attr-defined]


def test_late_entry_over_http(client: TestClient, service: TrainRec, clock: Clock) -> None:
    _may(service, clock)
    school = bearer(SCHOOL_ADMIN)
    path = "/api/v1/programmes/K1/enrolments"
    _problem(client.post(path, json={"teacher_no": "A001", "occurred_on": "2024-05-11"}, headers=school),
             422, "occurred_in_future")
    _problem(client.post(path, json={"teacher_no": "A001", "occurred_on": "2024-03-01"}, headers=school),
             422, "late_reason_required")
    _problem(client.post(path, json={"teacher_no": "A001"}, headers=school), 409, "programme_ended")
    ok = client.post(path, json={"teacher_no": "A001", "occurred_on": "2024-03-01", "late_reason": WHY},
                     headers=school)
    assert ok.status_code == 201, ok.text
    assert [e["type"] for e in ok.json()["events"]] == ["Enrolled"]

    sheet = "/api/v1/programmes/K1/sessions/1/attendance"
    _problem(client.post(sheet, json={"present": ["A001"]}, headers=bearer(PROVIDER)), 422, "late_reason_required")
    marked = client.post(sheet, json={"present": ["A001"], "occurred_on": "2024-05-01", "late_reason": WHY},
                         headers=bearer(PROVIDER))
    assert marked.status_code == 201
    assert marked.json()["recorded"] == 1

    me = bearer(teacher_actor("A002"))
    _problem(client.post("/api/v1/programmes/K2/enrolments", json={"teacher_no": "A002", "occurred_on": "2024-05-09"},
                         headers=me), 403, "late_entry_forbidden")
    assert client.post("/api/v1/programmes/K2/enrolments", json={"teacher_no": "A002"}, headers=me).status_code == 201

    history = client.get("/api/v1/teachers/A001/history", headers=bearer(ADMIN)).json()["events"]
    assert [(e["type"], e["occurred_on"], e["late_entry"]) for e in history] == [
        ("Registered", "2024-02-20", False), ("Enrolled", "2024-03-01", True),
        ("AttendanceRecorded", "2024-03-04", True),  # the session's day, not the 05-01 sent
    ]
    late = client.get("/api/v1/audit/events?late_entry=true", headers=bearer(AUDITOR)).json()["events"]
    assert [(e["type"], e["teacher_no"], e["occurred_on"], e["late_reason"]) for e in late] == [
        ("Enrolled", "A001", "2024-03-01", WHY), ("AttendanceRecorded", "A001", "2024-03-04", WHY)]
    _problem(client.get("/api/v1/audit/events?late_entry=maybe", headers=bearer(AUDITOR)), 422, "invalid_input")


def test_every_teacher_record_write_takes_an_effective_date(client: TestClient, service: TrainRec,
                                                            clock: Clock) -> None:
    """Assessment, evaluation, credit, revocation, absence, dispute and resolution: each refuses a
    future date and records the date it is given."""
    _may(service, clock)
    admin = bearer(ADMIN)
    assert client.post("/api/v1/programmes/K1/enrolments", headers=admin,
                       json={"teacher_no": "A001", "occurred_on": "2024-03-01", "late_reason": WHY}).status_code == 201
    writes = [
        ("/api/v1/programmes/K1/assessments", {"teacher_no": "A001", "attitude": 4, "assignments": 4,
                                               "result": "pass"}, "2024-03-09"),
        ("/api/v1/programmes/K1/credits", {"teacher_no": "A001", "hours": 24}, "2024-03-15"),
    ]
    for path, body, day in writes:
        _problem(client.post(path, json={**body, "occurred_on": "2024-05-11"}, headers=admin), 422,
                 "occurred_in_future")
        answer = client.post(path, json={**body, "occurred_on": day, "late_reason": WHY}, headers=admin)
        assert answer.status_code == 201, answer.text
    credit_id = service.transcript(ADMIN, "A001")["lines"][0]["credit_id"]
    revoke = f"/api/v1/teachers/A001/credits/{credit_id}/revocation"
    _problem(client.post(revoke, json={"reason": "核查不实", "occurred_on": "2024-04-01"}, headers=admin),
             422, "late_reason_required")
    revoked = client.post(revoke, json={"reason": "核查不实", "occurred_on": "2024-04-20"}, headers=admin)
    assert revoked.status_code == 201
    dispute = client.post("/api/v1/teachers/A001/disputes", headers=bearer(SCHOOL_ADMIN), json={
        "programme_code": "K1", "claim": "学时被误撤销", "evidence": [{"name": "证明.pdf", "sha256": "a" * 64}],
        "occurred_on": "2024-05-02"})
    assert dispute.status_code == 201, dispute.text
    resolved = client.post(f"/api/v1/disputes/{dispute.json()['dispute_id']}/resolution", headers=admin, json={
        "decision": "upheld", "reason": "复核属实", "award_hours": 24, "occurred_on": "2024-05-06"})
    assert resolved.status_code == 201, resolved.text
    history = client.get("/api/v1/teachers/A001/history", headers=admin).json()["events"]
    assert [(e["type"], e["occurred_on"], e["late_entry"]) for e in history[2:]] == [
        ("Assessed", "2024-03-09", True), ("CreditAwarded", "2024-03-15", True),
        ("CreditRevoked", "2024-04-20", False), ("DisputeOpened", "2024-05-02", False),
        ("DisputeResolved", "2024-05-06", False), ("CreditAwarded", "2024-05-06", False),
    ]
    lines = client.get("/api/v1/teachers/A001/transcript", headers=admin).json()["lines"]
    assert sorted((line["awarded_on"], line["status"]) for line in lines) == [
        ("2024-03-15", "revoked"), ("2024-05-06", "valid")]
