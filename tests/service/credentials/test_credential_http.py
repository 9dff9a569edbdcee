"""GET /api/v1/teachers/{teacher_no}/credential on memory, SQLite and PostgreSQL: the transcript as a
signed CLR 2.0 credential, checked with a second implementation (tests/service/credentials/independent.py)
against the key published at /.well-known/trainrec-keys.json; hours per line and totals by hand."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from fastapi.testclient import TestClient

from domain.actor import Actor
from domain.vocabulary import AssessmentResult, DepartureKind, Form, Level, Role, Selection
from service.app import TrainRec
from service.signing.keys import KeyRing
from tests.conftest import ADMIN, AUDITOR, OTHER_SCHOOL_ADMIN, PROVIDER, SCHOOL_ADMIN, Clock, build_county, define
from tests.conftest import teacher_actor as teacher
from tests.service.api.conftest import bearer
from tests.service.credentials import independent

JSON = {"Accept": "application/json"}
EVIDENCE = [{"name": "旧平台证书.pdf", "sha256": "b" * 64}]
KEY_START = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def ring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KeyRing:
    """The server's key ring in a data directory of the test; its credential key valid from 2024
    (the tests' clock runs in 2024)."""
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRAINREC_LOG_ORIGIN", "trainrec.test/log")
    ring = KeyRing.open(tmp_path)
    ring.rotate("credential", KEY_START)
    return ring


@pytest.fixture
def county(service: TrainRec, clock: Clock, ring: KeyRing) -> TrainRec:
    """A001 (张伟, 城关第一小学 S1 in 城关镇 T1 in 示范县 C1): 2023 earlier hours 40 (20 self-selected);
    K1 (county, concentrated, self-selected, 24 h) credited 24 on 2024-03-12, evaluated; W1 (city,
    workshop, mandated, 12 h) credited 10 on 2024-03-13, not evaluated; R1 (county, online, 8 h)
    credited 8 on 2024-03-12 and revoked on 2024-03-13."""
    build_county(service)
    service.record_prior_hours(ADMIN, "A001", 2023, Decimal(40), "省继续教育旧平台", EVIDENCE, "平台迁移前认定的学时",
                               self_selected=Decimal(20))
    define(service, "K1")  # 2024-03-04..06, 3 × 8 h
    define(service, "W1", starts_on=date(2024, 3, 11), days=2, hours_per_day=6, level=Level.CITY,
           form=Form.WORKSHOP, selection=Selection.MANDATED)
    define(service, "R1", days=1, form=Form.ONLINE)
    for code in ("K1", "W1", "R1"):
        service.enrol(ADMIN, code, "A001")
    clock.set(date(2024, 3, 12), hour=17)
    for code in ("K1", "W1", "R1"):
        service.assess(PROVIDER, code, "A001", 4, 4, AssessmentResult.GOOD)
    for code in ("K1", "R1"):
        service.evaluate(teacher("A001"), code, "A001", 5, 5, 4)
    service.award_credit(PROVIDER, "K1", "A001", Decimal(24))
    revoked = service.award_credit(PROVIDER, "R1", "A001", Decimal(8)).body["credit_id"]
    clock.set(date(2024, 3, 13), hour=10)
    service.award_credit(PROVIDER, "W1", "A001", Decimal(10))
    service.revoke_credit(ADMIN, "A001", revoked, "重复登记")
    clock.set(date(2024, 3, 20), hour=9)
    return service


def published(client: TestClient) -> dict[str, Any]:
    response = client.get("/.well-known/trainrec-keys.json")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def achievements(credential: dict[str, Any]) -> dict[str, Any]:
    """The hours of each achievement credential by its achievement's name."""
    return {line["credentialSubject"]["achievement"]["name"]: line["credentialSubject"]["creditsEarned"]
            for line in credential["credentialSubject"]["verifiableCredential"]}


def test_the_credential_is_a_signed_clr_of_the_transcript(client: TestClient, county: TrainRec, ring: KeyRing) -> None:
    response = client.get("/api/v1/teachers/A001/credential", headers=bearer(AUDITOR))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vc+jwt")
    token = response.text
    header = independent.header_of(token)
    key_id = ring.active("credential").key_id
    assert header == {"alg": "EdDSA", "typ": "vc+jwt", "kid": key_id}
    _, payload = independent.verify(token, independent.public_key_of(published(client), key_id))

    assert payload["@context"][:3] == ["https://www.w3.org/ns/credentials/v2",
                                       "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
                                       "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert payload["type"] == ["VerifiableCredential", "ClrCredential"]
    assert payload["issuer"] == {"id": "urn:trainrec:org:C1", "type": ["Profile"], "name": "示范县"}
    assert payload["iss"] == "urn:trainrec:org:C1"
    assert payload["sub"] == payload["credentialSubject"]["id"] == "urn:trainrec:teacher:A001"
    issued = int(datetime(2024, 3, 20, 1, 0, tzinfo=UTC).timestamp())  # 09:00 in Shanghai
    assert payload["iat"] == payload["nbf"] == issued
    assert payload["validFrom"] == "2024-03-20T01:00:00Z"
    subject = payload["credentialSubject"]
    assert subject["type"] == ["ClrSubject"]
    assert {(i["identityType"], i["identityHash"]) for i in subject["identifier"]} == {
        ("identifier", "A001"), ("name", "张伟")}
    # the revoked R1 earns nothing and is left out; W1 shows to an auditor although not yet evaluated
    assert achievements(payload) == {"培训项目K1": 24, "培训项目W1": 10, "2023 年历史学时（省继续教育旧平台）": 40}
    lines = {line["credentialSubject"]["achievement"]["humanCode"]: line
             for line in subject["verifiableCredential"] if "humanCode" in line["credentialSubject"]["achievement"]}
    w1 = lines["W1"]
    assert w1["type"] == ["VerifiableCredential", "AchievementCredential"]
    assert w1["credentialSubject"]["achievement"]["level"] == "city"
    assert w1["credentialSubject"]["achievement"]["form"] == "workshop"
    assert w1["credentialSubject"]["achievement"]["selection"] == "mandated"
    assert w1["credentialSubject"]["term"] == "2024"
    assert w1["awardedDate"] == "2024-03-12T16:00:00Z"  # 2024-03-13 in Shanghai
    assert w1["credentialSubject"]["source"]["name"] == "p1"
    assert w1["evidence"][0]["id"].startswith("urn:trainrec:event:")
    assert subject["hoursByYear"] == [
        {"year": 2023, "hours": 40, "selfSelected": 20, "schoolBased": 0, "concentrated": 0},
        {"year": 2024, "hours": 34, "selfSelected": 24, "schoolBased": 0, "concentrated": 24},
    ]
    assert subject["cycle"] == {"startYear": 2021, "endYear": 2025, "hours": 74, "required": 360}
    assert payload["checkpoint"]["size"] >= 1  # the log's checkpoint it was issued under (test below)


def test_json_answer_and_as_of(client: TestClient, county: TrainRec, ring: KeyRing) -> None:
    """As of the end of 2024-03-12 (Shanghai): K1 and R1 (not yet revoked), W1 not yet credited."""
    response = client.get("/api/v1/teachers/A001/credential", params={"as_of": "2024-03-12"},
                          headers={**bearer(SCHOOL_ADMIN), **JSON})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    _, payload = independent.verify(body["jwt"], ring.active("credential").public_raw())
    assert {k: v for k, v in payload.items() if k not in ("iss", "sub", "iat", "nbf", "jti")} == body["credential"]
    assert achievements(payload) == {"培训项目K1": 24, "培训项目R1": 8, "2023 年历史学时（省继续教育旧平台）": 40}
    assert payload["asOf"] == "2024-03-12T15:59:59Z"
    assert [(y["year"], y["hours"]) for y in payload["credentialSubject"]["hoursByYear"]] == [(2023, 40), (2024, 32)]


def test_the_teacher_gets_their_own_credential_without_unevaluated_hours(
        client: TestClient, county: TrainRec, ring: KeyRing) -> None:
    """R6: the trainee sees a programme's hours only after evaluating it, in the credential too."""
    response = client.get("/api/v1/teachers/A001/credential", headers={**bearer(teacher("A001")), **JSON})
    assert response.status_code == 200, response.text
    credential = response.json()["credential"]
    assert achievements(credential) == {"培训项目K1": 24, "2023 年历史学时（省继续教育旧平台）": 40}
    assert credential["credentialSubject"]["cycle"]["hours"] == 64


@pytest.mark.parametrize(("actor", "teacher_no"), [
    pytest.param(teacher("A002"), "A001", id="another-teacher"),
    pytest.param(OTHER_SCHOOL_ADMIN, "A001", id="school-outside-scope"),
    pytest.param(Actor("t2-sup", Role.SUPERVISOR, org_id="T2"), "A001", id="town-outside-scope"),
    pytest.param(PROVIDER, "A001", id="provider"),
    pytest.param(SCHOOL_ADMIN, "NOBODY", id="unknown-outside-scope"),
])
def test_outside_the_scope_is_refused(client: TestClient, county: TrainRec, actor: Actor, teacher_no: str) -> None:
    response = client.get(f"/api/v1/teachers/{teacher_no}/credential", headers=bearer(actor))
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "forbidden_scope"


@pytest.mark.parametrize("as_of", ["yesterday", "2024-02-30", "2024-03-20T10:00:00", "9" * 64])
def test_bad_as_of_is_422(client: TestClient, county: TrainRec, as_of: str) -> None:
    response = client.get("/api/v1/teachers/A001/credential", params={"as_of": as_of}, headers=bearer(ADMIN))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] in ("invalid_instant", "invalid_input")


def test_the_checkpoint_it_was_issued_under_is_recorded(client: TestClient, county: TrainRec, ring: KeyRing) -> None:
    """The credential carries, under its signature, the transparency log's checkpoint as it was issued:
    the one `GET /api/v1/audit/checkpoint` then serves, covering every event recorded so far."""
    token = client.get("/api/v1/teachers/A001/credential", headers=bearer(ADMIN)).text
    _, payload = independent.verify(token, ring.active("credential").public_raw())
    recorded = payload["checkpoint"]
    served = client.get("/api/v1/audit/checkpoint", headers=bearer(ADMIN)).json()
    assert (recorded["size"], recorded["root"], recorded["key_id"]) == (served["size"], served["root"],
                                                                        served["key_id"])
    assert recorded["size"] == len(county.recorder.select_notifications(start=1, limit=1_000_000))
    assert recorded["note"].startswith(f"{served['note'].splitlines()[0]}\n{recorded['size']}\n")


def test_unknown_teacher_is_404_to_an_admin(client: TestClient, county: TrainRec) -> None:
    response = client.get("/api/v1/teachers/NOBODY/credential", headers=bearer(ADMIN))
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "teacher_not_found"


def test_a_changed_byte_fails_the_independent_verifier(client: TestClient, county: TrainRec, ring: KeyRing) -> None:
    token = client.get("/api/v1/teachers/A001/credential", headers=bearer(ADMIN)).text
    header, payload, signature = token.split(".")
    raw = independent.b64url_decode(payload)
    assert b'"creditsEarned":24' in raw
    forged = independent.b64url_encode(raw.replace(b'"creditsEarned":24', b'"creditsEarned":94'))
    public = ring.active("credential").public_raw()
    with pytest.raises(InvalidSignature):
        independent.verify(f"{header}.{forged}.{signature}", public)
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    with pytest.raises(InvalidSignature):
        independent.verify(f"{header}.{payload}.{flipped}", public)
    independent.verify(token, public)  # the untouched one holds


def test_no_credential_with_a_key_not_valid_now(client: TestClient, county: TrainRec, ring: KeyRing) -> None:
    """The active key must cover the instant of issue: a credential that could not verify is not issued."""
    ring.rotate("credential", datetime(2024, 6, 1, tzinfo=UTC))  # the new key starts after the clock's now
    response = client.get("/api/v1/teachers/A001/credential", headers=bearer(ADMIN))
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "credential_key_not_valid"


def test_the_credential_round_trips_through_json(client: TestClient, county: TrainRec) -> None:
    body = client.get("/api/v1/teachers/A001/credential", headers={**bearer(ADMIN), **JSON}).json()
    assert json.loads(json.dumps(body, ensure_ascii=False)) == body


def test_a_departed_teacher_is_issued_by_the_county_of_their_last_school(
        client: TestClient, county: TrainRec, ring: KeyRing) -> None:
    """A retired teacher belongs to no school any more: their credential is issued by the county of
    their last school, with every hour they earned."""
    county.record_departure(ADMIN, "A001", DepartureKind.RETIRED, date(2024, 3, 15), "退休")
    answer = client.get("/api/v1/teachers/A001/credential", headers={**bearer(ADMIN), **JSON})
    assert answer.status_code == 200, answer.text
    credential = answer.json()["credential"]
    assert credential["issuer"] == {"id": "urn:trainrec:org:C1", "type": ["Profile"], "name": "示范县"}
    assert credential["credentialSubject"]["cycle"]["hours"] == 74
