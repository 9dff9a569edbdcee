"""POST and DELETE /api/v1/session through HTTP, on every backend: the token and the cookie, the
refusals (wrong password and unknown user alike, a disabled account, too many attempts), a
disabled account's token and cookie refused at once, signing out, and CSRF on cookie requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
import pytest
from fastapi import APIRouter, Form
from fastapi.testclient import TestClient

from domain.vocabulary import Role
from service.api.deps import CurrentCaller
from service.api.main import create_app
from service.app import TrainRec
from service.auth.csrf import csrf_token
from service.auth.tokens import SESSION_COOKIE
from tests.conftest import ADMIN, Backend, build_county
from tests.service.api.conftest import SECRET, bearer

PROBLEM = "application/problem+json"
PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(backend: Backend) -> Iterator[TrainRec]:
    """A county with accounts s1 (school admin of S1) and a001 (teacher A001), on the real clock:
    a session's token expires when its session does."""
    service = TrainRec(backend.fresh())
    build_county(service)
    service.add_account(ADMIN, "s1", Role.SCHOOL_ADMIN, "S1", None, PASSWORD)
    service.add_account(ADMIN, "a001", Role.TEACHER, None, "A001", PASSWORD)
    service.enable_group_commit()
    yield service
    service.close()


@pytest.fixture
def http(accounts: TrainRec) -> TestClient:
    return TestClient(create_app(accounts, SECRET), raise_server_exceptions=False)


def sign_in(http: TestClient, username: str = "s1", password: str = PASSWORD) -> dict[str, str]:
    response = http.post("/api/v1/session", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def assert_problem(response: object, status: int, code: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith(PROBLEM)  # type: ignore[attr-defined]
    assert response.json()["code"] == code  # type: ignore[attr-defined]


def test_signing_in_answers_a_token_and_sets_a_signed_httponly_lax_cookie(http: TestClient) -> None:
    started = datetime.now(tz=UTC)
    response = http.post("/api/v1/session", json={"username": "s1", "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("username", "role", "org_id", "teacher_no", "token_type")} == {
        "username": "s1", "role": "school_admin", "org_id": "S1", "teacher_no": None, "token_type": "Bearer"}
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"], issuer="trainrec")
    assert (claims["sub"], claims["role"], claims["org"]) == ("s1", "school_admin", "S1")
    assert body["csrf_token"] == csrf_token(SECRET, claims["sid"])
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=11, minutes=59) < expires - started <= timedelta(hours=12, seconds=5)
    assert claims["exp"] == int(expires.timestamp())
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}={body['token']};")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here
    assert response.headers["cache-control"] == "no-store"
    assert http.get("/api/v1/orgs/S1", headers={"Authorization": f"Bearer {body['token']}"}).status_code == 200
    assert http.get("/api/v1/orgs/S1").status_code == 200  # the cookie
    assert http.get("/api/v1/orgs/S3").status_code == 403  # its scope is S1's


def test_the_cookie_is_secure_over_https(accounts: TrainRec) -> None:
    secure = TestClient(create_app(accounts, SECRET), base_url="https://testserver", raise_server_exceptions=False)
    response = secure.post("/api/v1/session", json={"username": "s1", "password": PASSWORD})
    assert "Secure" in response.headers["set-cookie"]


@pytest.mark.parametrize(("username", "password"), [("s1", "wrong horse battery"), ("nobody", PASSWORD)])
def test_a_wrong_password_and_an_unknown_user_get_one_answer(http: TestClient, username: str, password: str) -> None:
    response = http.post("/api/v1/session", json={"username": username, "password": password})
    assert_problem(response, 401, "invalid_credentials")
    assert response.json()["detail"] == "the username or password is wrong"
    assert "set-cookie" not in response.headers


def test_a_disabled_account_is_refused_sign_in(http: TestClient, accounts: TrainRec) -> None:
    accounts.disable_account(ADMIN, "s1", "left")
    assert_problem(http.post("/api/v1/session", json={"username": "s1", "password": PASSWORD}),
                   401, "account_disabled")
    assert_problem(http.post("/api/v1/session", json={"username": "s1", "password": "wrong horse"}),
                   401, "invalid_credentials")


def test_a_disabled_accounts_token_and_cookie_are_refused_at_once(http: TestClient, accounts: TrainRec) -> None:
    body = sign_in(http)
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert http.get("/api/v1/orgs/S1", headers=headers).status_code == 200
    assert http.get("/api/v1/orgs/S1").status_code == 200
    accounts.disable_account(ADMIN, "s1", "left")
    assert_problem(http.get("/api/v1/orgs/S1", headers=headers), 401, "account_disabled")
    assert_problem(http.get("/api/v1/orgs/S1"), 401, "account_disabled")
    # a write too, and nothing is recorded
    before = accounts.recorder.max_notification_id()
    response = http.post("/api/v1/teachers", json={"teacher_no": "A010", "name": "新人", "school_id": "S1"},
                         headers=headers)
    assert_problem(response, 401, "account_disabled")
    assert accounts.recorder.max_notification_id() == before


def test_signing_out_with_the_bearer_token_ends_the_session(http: TestClient) -> None:
    body = sign_in(http, "a001")
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert http.get("/api/v1/teachers/A001/transcript", headers=headers).status_code == 200
    response = http.delete("/api/v1/session", headers=headers)
    assert response.status_code == 204
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]  # the cookie is dropped
    assert_problem(http.get("/api/v1/teachers/A001/transcript", headers=headers), 401, "session_ended")
    assert_problem(http.delete("/api/v1/session", headers=headers), 401, "session_ended")


def test_other_sessions_of_the_account_stay_open(http: TestClient) -> None:
    first = sign_in(http)
    second = sign_in(http)
    assert http.delete("/api/v1/session", headers={"Authorization": f"Bearer {first['token']}"}).status_code == 204
    assert http.get("/api/v1/orgs/S1", headers={"Authorization": f"Bearer {second['token']}"}).status_code == 200


def test_a_token_of_token_issue_has_no_session_to_end(http: TestClient) -> None:
    assert_problem(http.delete("/api/v1/session", headers=bearer(ADMIN)), 422, "no_session")
    assert http.get("/api/v1/orgs/S1", headers=bearer(ADMIN)).status_code == 200  # works as before


def test_signing_out_with_the_cookie_needs_the_csrf_token(http: TestClient) -> None:
    body = sign_in(http)
    assert_problem(http.delete("/api/v1/session"), 403, "csrf_failed")
    assert_problem(http.delete("/api/v1/session", headers={"X-CSRF-Token": "0" * 64}), 403, "csrf_failed")
    other = csrf_token(SECRET, "another-session")
    assert_problem(http.delete("/api/v1/session", headers={"X-CSRF-Token": other}), 403, "csrf_failed")
    assert http.get("/api/v1/orgs/S1").status_code == 200  # still signed in: reads need no token
    assert http.delete("/api/v1/session", headers={"X-CSRF-Token": body["csrf_token"]}).status_code == 204
    assert_problem(http.get("/api/v1/orgs/S1"), 401, "unauthenticated")  # the cookie is gone


def test_a_cookie_write_takes_the_csrf_token_as_a_form_field_too(http: TestClient, accounts: TrainRec) -> None:
    body = sign_in(http)
    refused = http.request("DELETE", "/api/v1/session", content="csrf_token=nope",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(refused, 403, "csrf_failed")
    accepted = http.request("DELETE", "/api/v1/session", content=f"csrf_token={body['csrf_token']}",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert accepted.status_code == 204


def test_a_cookie_post_without_csrf_records_nothing(http: TestClient, accounts: TrainRec) -> None:
    body = sign_in(http)
    before = accounts.recorder.max_notification_id()
    payload = {"teacher_no": "A010", "name": "新人", "school_id": "S1"}
    assert_problem(http.post("/api/v1/teachers", json=payload), 403, "csrf_failed")
    assert accounts.recorder.max_notification_id() == before
    ok = http.post("/api/v1/teachers", json=payload, headers={"X-CSRF-Token": body["csrf_token"]})
    assert ok.status_code == 201, ok.text


def test_a_bearer_request_needs_no_csrf_token_even_with_the_cookie_set(http: TestClient) -> None:
    body = sign_in(http)
    payload = {"teacher_no": "A011", "name": "新人", "school_id": "S1"}
    response = http.post("/api/v1/teachers", json=payload, headers={"Authorization": f"Bearer {body['token']}"})
    assert response.status_code == 201, response.text


def test_a_cookie_holding_a_token_without_a_session_is_refused(http: TestClient) -> None:
    http.cookies.set(SESSION_COOKIE, bearer(ADMIN)["Authorization"].removeprefix("Bearer "))
    assert_problem(http.get("/api/v1/orgs/S1"), 401, "invalid_token")


def test_repeated_wrong_passwords_get_429_with_retry_after(http: TestClient) -> None:
    for _ in range(5):
        assert_problem(http.post("/api/v1/session", json={"username": "s1", "password": "wrong horse"}),
                       401, "invalid_credentials")
    response = http.post("/api/v1/session", json={"username": "s1", "password": PASSWORD})
    assert_problem(response, 429, "too_many_attempts")
    assert response.headers["retry-after"] == "30"
    # the same address is blocked for another account too (per address as well as per account)
    assert_problem(http.post("/api/v1/session", json={"username": "a001", "password": PASSWORD}),
                   429, "too_many_attempts")


@pytest.mark.parametrize("body", [{}, {"username": "s1"}, {"username": "", "password": "x"},
                                  {"username": "s1", "password": PASSWORD, "extra": 1}])
def test_a_malformed_sign_in_is_invalid_input(http: TestClient, body: dict[str, object]) -> None:
    assert_problem(http.post("/api/v1/session", json=body), 422, "invalid_input")


def test_a_page_route_gets_its_callers_csrf_token_and_its_forms_are_checked(accounts: TrainRec) -> None:
    """How the coming server-rendered pages use it: `CurrentCaller` gives the token to put in a
    form, and a cookie POST of that form passes only with it."""
    pages = APIRouter()

    @pages.get("/page")
    def page(caller: CurrentCaller) -> dict[str, str | None]:
        return {"who": caller.actor.subject, "csrf_token": caller.csrf_token}

    @pages.post("/page")
    def submit(caller: CurrentCaller) -> dict[str, str]:
        return {"who": caller.actor.subject}

    app = create_app(accounts, SECRET)
    app.include_router(pages)
    http = TestClient(app, raise_server_exceptions=False)
    body = sign_in(http)
    shown = http.get("/page").json()
    assert shown == {"who": "s1", "csrf_token": body["csrf_token"]}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    refused = http.post("/page", content="note=hi", headers=form)
    assert refused.status_code == 403  # a page's refusal answers as a page (service/pages)
    assert refused.headers["content-type"].startswith("text/html")
    assert "csrf_failed" in refused.text
    sent = http.post("/page", content=f"note=hi&csrf_token={shown['csrf_token']}", headers=form)
    assert sent.json() == {"who": "s1"}
    assert http.get("/page", headers=bearer(ADMIN)).json() == {"who": "admin", "csrf_token": None}


def test_a_page_route_with_form_parameters_reads_its_form_after_the_csrf_check(accounts: TrainRec) -> None:
    """FastAPI parses `Form()` parameters before the dependencies run: the CSRF check reads the
    same parsed form rather than the body, which is gone by then."""
    pages = APIRouter()

    @pages.post("/note")
    def note(caller: CurrentCaller, text: Annotated[str, Form()]) -> dict[str, str]:
        return {"who": caller.actor.subject, "text": text}

    app = create_app(accounts, SECRET)
    app.include_router(pages)
    http = TestClient(app, raise_server_exceptions=False)
    body = sign_in(http)
    sent = http.post("/note", data={"text": "你好", "csrf_token": body["csrf_token"]})
    assert (sent.status_code, sent.json()) == (200, {"who": "s1", "text": "你好"}), sent.text
    refused = http.post("/note", data={"text": "你好", "csrf_token": "forged"})
    assert refused.status_code == 403
    assert "csrf_failed" in refused.text
