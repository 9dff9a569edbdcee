"""The printed records over HTTP (memory, SQLite, PostgreSQL): the transcript as a PDF, hours
certificates (issue, print, check in public), their refusals, and a certificate that no longer holds
once a credit it counted is revoked. Expected values are worked out by hand from the world below."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.vocabulary import AssessmentResult
from service.app import TrainRec
from tests.conftest import ADMIN, PROVIDER, SCHOOL_ADMIN, Clock, build_county, define, teacher_actor
from tests.helpers import last_notification
from tests.printing_support import pdf_text, qr_codes, require_pdf_font
from tests.service.api.conftest import bearer
from tests.service.api.test_endpoints import problem

SCHOOL = bearer(SCHOOL_ADMIN)
TEACHER = bearer(teacher_actor("A001"))


def credited_world(service: TrainRec, clock: Clock) -> dict[str, str]:
    """A001 (张伟, S1 城关第一小学): K1 (24 h, ends 2024-03-06) and K2 (16 h, ends 2024-04-09),
    both assessed, evaluated and credited in full; K3 (8 h, ends 2024-04-09) assessed but not yet
    evaluated by the trainee, credited. Returns the credit ids by programme."""
    build_county(service)
    define(service, "K1")  # 2024-03-04 .. 03-06, 3 × 8 h
    define(service, "K2", starts_on=date(2024, 4, 8), days=2)  # 16 h
    define(service, "K3", starts_on=date(2024, 4, 9), days=1)  # 8 h
    for code in ("K1", "K2", "K3"):
        service.enrol(ADMIN, code, "A001")
    ids = {}
    for code, day, hours in (("K1", date(2024, 3, 6), 24), ("K2", date(2024, 4, 10), 16),
                             ("K3", date(2024, 4, 10), 8)):
        clock.set(day, hour=17)
        service.assess(PROVIDER, code, "A001", 4, 4, AssessmentResult.GOOD)
        if code != "K3":
            service.evaluate(teacher_actor("A001"), code, "A001", 5, 5, 5)
        ids[code] = service.award_credit(PROVIDER, code, "A001", Decimal(hours)).body["credit_id"]
    clock.set(date(2024, 5, 20), hour=10)
    return ids


def test_a_year_certificate_is_issued_printed_and_checked_until_a_credit_it_counted_is_revoked(
    client: TestClient, service: TrainRec, clock: Clock
) -> None:
    require_pdf_font()
    ids = credited_world(service, clock)
    log = client.get("/api/v1/audit/checkpoint", headers=bearer(ADMIN)).json()  # the log as it stands
    assert log["size"] == len(service.recorder.select_notifications(start=1, limit=10_000))
    answer = client.post("/api/v1/teachers/A001/certificates", json={"year": 2024, "purpose": "职称评审"},
                         headers=SCHOOL)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    number = body["certificate_no"]
    # K1 24 + K2 16 = 40; K3 awaits the trainee's evaluation, so no certificate shows it (R6)
    assert body["hours"] == 40
    assert body["pdf"] == f"/api/v1/certificates/{number}.pdf"
    assert body["credential"] == "/api/v1/teachers/A001/credential"
    assert body["checkpoint"] == {"size": log["size"], "root": log["root"]}  # issued under the log as it stood
    assert [e["type"] for e in body["events"]] == ["CertificateIssued"]
    history = client.get("/api/v1/teachers/A001/history", headers=SCHOOL).json()["events"]
    issued = history[-1]
    assert issued["type"] == "CertificateIssued"
    assert issued["actor"] == {"sub": "s1-admin", "role": "school_admin", "org": "S1"}
    assert issued["reason"] == "职称评审"
    assert {k: issued["data"][k] for k in ("certificate_no", "year", "programme_code", "hours", "issuer_org_id",
                                            "checkpoint_size", "checkpoint_root")} == {
        "certificate_no": number, "year": 2024, "programme_code": None, "hours": "40", "issuer_org_id": "S1",
        "checkpoint_size": log["size"], "checkpoint_root": log["root"]}
    assert [line["id"] for line in issued["data"]["lines"]] == [ids["K1"], ids["K2"]]

    printed = client.get(body["pdf"], headers=SCHOOL)
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "application/pdf"
    text = pdf_text(printed.content)
    for expected in ("学时证明", number, "张伟", "A001", "城关第一小学", "经认定共计 40 学时", "职称评审",
                     "培训项目K1（K1）", "培训项目K2（K2）", "开具单位：城关第一小学", "2024年05月20日",
                     f"开具时审计日志检查点：共 {log['size']} 条记录"):
        assert expected in text, expected
    assert "K3" not in text
    assert qr_codes(printed.content) == [f"http://testserver/verify/{number}"]

    check = client.get(f"/verify/{number}", headers={"Accept": "application/json"})
    assert check.status_code == 200
    assert check.json() == {"certificate_no": number, "holds": True, "name": "张*", "school": "城关第一小学",
                            "year": 2024, "hours": 40, "hours_text": "40", "issued_on": "2024-05-20",
                            "issuer": "城关第一小学", "revocations": [],
                            "checkpoint": {"size": log["size"], "root": log["root"]}}
    page = client.get(f"/verify/{number}")
    assert page.status_code == 200
    assert "该学时证明有效" in page.text
    assert "张*" in page.text
    assert "张伟" not in page.text
    assert "A001" not in page.text
    assert f"共 {log['size']} 条记录" in page.text

    clock.set(date(2024, 6, 3), hour=9)
    revoked = client.post(f"/api/v1/teachers/A001/credits/{ids['K2']}/revocation", json={"reason": "重复登记"},
                          headers=bearer(ADMIN))
    assert revoked.status_code == 201, revoked.text
    check = client.get(f"/verify/{number}", headers={"Accept": "application/json"}).json()
    assert check["holds"] is False
    assert check["revocations"] == [{"title": "培训项目K2", "programme_code": "K2", "hours": 16,
                                     "revoked_on": "2024-06-03", "recorded_on": "2024-06-03"}]
    page = client.get(f"/verify/{number}")
    assert "已不再有效" in page.text
    assert "2024-06-03" in page.text
    assert "重复登记" not in page.text


def test_the_transcript_pdf_prints_the_transcript_with_a_number_and_a_qr_code(
    client: TestClient, service: TrainRec, clock: Clock
) -> None:
    require_pdf_font()
    credited_world(service, clock)
    printed = client.get("/api/v1/teachers/A001/transcript.pdf", headers=SCHOOL)
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "application/pdf"
    text = pdf_text(printed.content)
    for expected in ("教师培训学时档案", "张伟", "A001", "城关第一小学（S1）", "培训项目K1（K1）", "县级", "集中培训",
                     "p1", "2024-03-06", "本周期 2021–2025", "应达 360", "DA-", "记录截至：2024-05-20 10:00"):
        assert expected in text, expected
    # the totals of 2024: K1 24 + K2 16 + K3 8 (the school sees K3; the trainee, not before evaluating
    # it), all self-selected concentrated programmes: 48 in all, 48 self-selected, 0 school-based, 48 concentrated
    assert "2024 48 48 0 48" in text
    codes = qr_codes(printed.content)
    assert codes == ["http://testserver/teachers/A001/transcript?as_of=2024-05-20T02%3A00%3A00%2B00%3A00"]
    own = pdf_text(client.get("/api/v1/teachers/A001/transcript.pdf", headers=TEACHER).content)
    assert "培训项目K3" not in own
    assert "待学员评价后显示学时的项目：K3" in own
    earlier = client.get("/api/v1/teachers/A001/transcript.pdf", params={"as_of": "2024-03-31"}, headers=SCHOOL)
    text = pdf_text(earlier.content)
    assert "培训项目K1（K1）" in text
    assert "培训项目K2" not in text
    assert "记录截至：2024-03-31 23:59" in text


def test_a_programme_certificate_by_the_teacher_themself(client: TestClient, service: TrainRec, clock: Clock) -> None:
    require_pdf_font()
    credited_world(service, clock)
    answer = client.post("/api/v1/teachers/A001/certificates", json={"programme_code": "K1"}, headers=TEACHER)
    assert answer.status_code == 201, answer.text
    assert answer.json()["hours"] == 24
    text = pdf_text(client.get(answer.json()["pdf"], headers=TEACHER).content)
    assert "参加培训项目《培训项目K1》（K1），经认定共计 24 学时" in text
    check = client.get(f"/verify/{answer.json()['certificate_no']}", headers={"Accept": "application/json"}).json()
    assert (check["programme_code"], check["title"], check["hours"], check["issuer"]) == (
        "K1", "培训项目K1", 24, "城关第一小学")
    page = client.get(f"/verify/{answer.json()['certificate_no']}")
    assert page.status_code == 200
    assert "培训项目K1（K1）" in page.text
    assert "24 学时" in page.text


@pytest.mark.parametrize(("body", "status", "code"), [
    ({}, 422, "certificate_subject_required"),
    ({"year": 2024, "programme_code": "K1"}, 422, "certificate_subject_required"),
    ({"year": 1989}, 422, "invalid_year"),
    ({"year": 2025}, 422, "invalid_year"),  # the clock is in 2024
    ({"year": "2024"}, 422, "invalid_input"),
    ({"year": 2023}, 422, "nothing_to_certify"),
    ({"programme_code": "NOPE"}, 422, "nothing_to_certify"),
    ({"programme_code": "K3"}, 422, "nothing_to_certify"),  # awaiting the trainee's evaluation
    ({"year": 2024, "purpose": "x" * 201}, 422, "invalid_input"),
    ({"year": 2024, "colour": "red"}, 422, "invalid_input"),
])
def test_bad_certificate_requests_are_refused_and_record_nothing(
    client: TestClient, service: TrainRec, clock: Clock, body: dict[str, Any], status: int, code: str
) -> None:
    credited_world(service, clock)
    before = last_notification(service)
    problem(client.post("/api/v1/teachers/A001/certificates", json=body, headers=SCHOOL), status, code)
    assert last_notification(service) == before


def test_unknown_certificates_and_teachers(client: TestClient, service: TrainRec, clock: Clock) -> None:
    credited_world(service, clock)
    page = client.get("/verify/ZM-0000000000000000")
    assert page.status_code == 404
    assert "未找到编号为 ZM-0000000000000000 的学时证明" in page.text
    problem(client.get("/verify/ZM-0000000000000000", headers={"Accept": "application/json"}), 404,
            "certificate_not_found")
    problem(client.get("/api/v1/certificates/ZM-0000000000000000.pdf", headers=SCHOOL), 404,
            "certificate_not_found")
    problem(client.post("/api/v1/teachers/N404/certificates", json={"year": 2024}, headers=bearer(ADMIN)), 404,
            "teacher_not_found")
    problem(client.get("/api/v1/teachers/A001/transcript.pdf", params={"as_of": "yesterday"}, headers=SCHOOL),
            422, "invalid_instant")


def test_a_certificate_pdf_is_read_only_within_the_teachers_scope(
    client: TestClient, service: TrainRec, clock: Clock
) -> None:
    credited_world(service, clock)
    number = service.issue_certificate(ADMIN, "A001", year=2024).body["certificate_no"]
    for who in (bearer(teacher_actor("A002")), bearer(PROVIDER)):
        problem(client.get(f"/api/v1/certificates/{number}.pdf", headers=who), 403, "forbidden_scope")
    problem(client.get(f"/api/v1/certificates/{number}.pdf"), 401, "unauthenticated")
