"""POST /api/v1/teachers/{teacher_no}/prior-hours and its revocation through FastAPI's client: the
allowed case, each refusal as problem+json that records nothing, and the transcript's `prior`."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import TrainRec
from tests.conftest import ADMIN, COUNTY_SUP, SCHOOL_ADMIN, build_county
from tests.helpers import last_notification
from tests.service.api.conftest import bearer
from tests.service.api.test_endpoints import problem

SUP = bearer(COUNTY_SUP)
BODY: dict[str, Any] = {"year": 2023, "hours": 80, "self_selected": 40, "school_based": 16, "concentrated": 0,
                        "source": "省继续教育旧平台", "evidence": [{"name": "证书.pdf", "sha256": "E" * 64}],
                        "reason": "平台迁移前认定的学时"}


def test_earlier_hours_are_recorded_revoked_and_listed_over_http(client: TestClient, service: TrainRec) -> None:
    build_county(service)
    answer = client.post("/api/v1/teachers/A001/prior-hours", json=BODY, headers=SUP)
    assert answer.status_code == 201, answer.text
    record_id = answer.json()["record_id"]
    assert [e["type"] for e in answer.json()["events"]] == ["PriorHoursRecorded"]
    transcript = client.get("/api/v1/teachers/A001/transcript", headers=SUP).json()
    event = answer.json()["events"][0]["id"]
    assert [{k: p[k] for k in ("record_id", "year", "hours", "source", "event_id", "status")}
            for p in transcript["prior"]] == [{"record_id": record_id, "year": 2023, "hours": 80,
                                               "source": "省继续教育旧平台", "event_id": event, "status": "valid"}]
    assert transcript["totals"]["by_year"]["2023"] == {"hours": 80, "self_selected": 40, "school_based": 16,
                                                      "concentrated": 0}
    history = client.get("/api/v1/teachers/A001/history", headers=SUP).json()["events"]
    assert history[-1]["data"]["evidence"] == [{"name": "证书.pdf", "sha256": "e" * 64}]
    revoked = client.post(f"/api/v1/teachers/A001/prior-hours/{record_id}/revocation", json={"reason": "证书不实"},
                          headers=SUP)
    assert revoked.status_code == 201, revoked.text
    assert (revoked.json()["status"], [e["type"] for e in revoked.json()["events"]]) == (
        "revoked", ["PriorHoursRevoked"])
    transcript = client.get("/api/v1/teachers/A001/transcript", headers=SUP).json()
    assert [p["status"] for p in transcript["prior"]] == ["revoked"]
    assert transcript["totals"]["by_year"] == {}
    before = last_notification(service)
    problem(client.post(f"/api/v1/teachers/A001/prior-hours/{record_id}/revocation", json={"reason": "再次"},
                        headers=SUP), 409, "prior_hours_already_revoked")
    problem(client.post("/api/v1/teachers/A001/prior-hours/H-404/revocation", json={"reason": "证书不实"},
                        headers=SUP), 404, "prior_hours_not_found")
    assert last_notification(service) == before


def test_an_idempotent_retry_of_earlier_hours_over_http_replays_the_answer(
    client: TestClient, service: TrainRec
) -> None:
    build_county(service)
    headers = {**SUP, "Idempotency-Key": "prior-1"}
    first = client.post("/api/v1/teachers/A001/prior-hours", json=BODY, headers=headers)
    after = last_notification(service)
    second = client.post("/api/v1/teachers/A001/prior-hours", json=BODY, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert last_notification(service) == after


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"year": 1989}, 422, "invalid_year"),
    ({"year": 2025}, 422, "invalid_year"),  # the clock is in 2024
    ({"hours": 12.25}, 422, "invalid_hours"),
    ({"hours": 0}, 422, "invalid_input"),
    ({"self_selected": 81}, 422, "invalid_breakdown"),
    ({"self_selected": 70, "school_based": 20}, 422, "invalid_breakdown"),
    ({"concentrated": -1}, 422, "invalid_input"),
    ({"source": "  "}, 422, "source_required"),
    ({"evidence": []}, 422, "evidence_required"),
    ({"evidence": [{"name": "证书.pdf", "sha256": "abc"}]}, 422, "invalid_input"),
    ({"reason": ""}, 422, "reason_required"),
    ({"year": "2023"}, 422, "invalid_input"),
])
def test_invalid_earlier_hours_are_refused_over_http(
    client: TestClient, service: TrainRec, change: dict[str, Any], status: int, code: str
) -> None:
    build_county(service)
    before = last_notification(service)
    problem(client.post("/api/v1/teachers/A001/prior-hours", json={**BODY, **change}, headers=SUP), status, code)
    assert last_notification(service) == before


def test_earlier_hours_refusals_of_scope_existence_and_duplicates_over_http(
    client: TestClient, service: TrainRec
) -> None:
    build_county(service)
    before = last_notification(service)
    problem(client.post("/api/v1/teachers/A001/prior-hours", json=BODY, headers=bearer(SCHOOL_ADMIN)),
            403, "forbidden_scope")
    problem(client.post("/api/v1/teachers/X999/prior-hours", json=BODY, headers=bearer(ADMIN)),
            404, "teacher_not_found")
    problem(client.post("/api/v1/teachers/X999/prior-hours", json=BODY, headers=SUP), 403, "forbidden_scope")
    assert last_notification(service) == before
    assert client.post("/api/v1/teachers/A001/prior-hours", json=BODY, headers=SUP).status_code == 201
    after = last_notification(service)
    problem(client.post("/api/v1/teachers/A001/prior-hours", json=BODY, headers=SUP), 409,
            "prior_hours_already_recorded")
    assert last_notification(service) == after
