"""The sign-in page, signing out, `/` by role, and pages refusing what the API refuses, on every backend."""

from __future__ import annotations

from fastapi.testclient import TestClient

from domain.vocabulary import Role
from service.app import TrainRec
from tests.conftest import ADMIN
from tests.service.pages.conftest import FORM_TOKEN, PASSWORD, csrf_of, sign_in


def test_a_browser_not_signed_in_is_sent_to_the_sign_in_page_and_brought_back(browser: TestClient) -> None:
    home = browser.get("/")
    assert (home.status_code, home.headers["location"]) == (303, "/signin")
    deep = browser.get("/units/S1", params={"year": 2024})
    assert (deep.status_code, deep.headers["location"]) == (303, "/signin?next=/units/S1%3Fyear%3D2024")
    form = browser.get("/signin")
    assert form.status_code == 200
    assert "登录" in form.text
    assert 'lang="zh-CN"' in form.text
    assert sign_in(browser, "s1", next_path="/units/S1?year=2024") == "/units/S1?year=2024"


def test_each_role_has_its_home_page(browser: TestClient) -> None:
    expected = {"county": "/units/C1", "s1": "/units/S1", "p1": "/programmes", "a001": "/me", "audit": "/units/C1"}
    for username, home in expected.items():
        browser.cookies.clear()
        sign_in(browser, username)
        answer = browser.get("/")
        assert (answer.status_code, answer.headers["location"]) == (303, home), username


def test_a_wrong_password_shows_the_form_again_with_a_chinese_message(browser: TestClient) -> None:
    form = browser.get("/signin")
    token = FORM_TOKEN.search(form.text)
    assert token is not None
    answer = browser.post("/signin", data={"username": "s1", "password": "wrong password!", "form_token": token[1]})
    assert answer.status_code == 401
    assert "用户名或密码错误" in answer.text
    assert "trainrec_session" not in answer.headers.get("set-cookie", "")


def test_a_sign_in_form_without_its_token_is_refused(browser: TestClient) -> None:
    browser.get("/signin")
    forged = browser.post("/signin", data={"username": "s1", "password": PASSWORD, "form_token": "forged"})
    assert forged.status_code == 403
    assert "登录表单已过期" in forged.text
    assert "trainrec_session" not in forged.headers.get("set-cookie", "")


def test_sign_in_never_sends_the_browser_to_another_site(browser: TestClient) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "\\\\evil", "units"):
        browser.cookies.clear()
        assert sign_in(browser, "s1", next_path=target) == "/", target


def test_signing_out_ends_the_session_and_needs_the_csrf_token(browser: TestClient) -> None:
    sign_in(browser, "s1")
    page = browser.get("/units/S1")
    assert page.status_code == 200
    refused = browser.post("/signout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert browser.get("/units/S1").status_code == 200  # still signed in
    out = browser.post("/signout", data={"csrf_token": csrf_of(page.text)})
    assert (out.status_code, out.headers["location"]) == (303, "/signin?done=signed_out")
    assert "已退出" in browser.get("/signin?done=signed_out").text
    assert browser.get("/units/S1").status_code == 303  # back to the sign-in page


def test_a_disabled_account_is_sent_back_to_sign_in_at_once(browser: TestClient, county: TrainRec) -> None:
    sign_in(browser, "s1")
    assert browser.get("/units/S1").status_code == 200
    county.disable_account(ADMIN, "s1", "离职")
    answer = browser.get("/units/S1")
    assert (answer.status_code, answer.headers["location"]) == (303, "/signin?next=/units/S1")


def test_a_page_outside_the_callers_scope_is_refused_in_chinese(browser: TestClient, county: TrainRec) -> None:
    sign_in(browser, "s1")
    answer = browser.get("/units/S3")
    assert answer.status_code == 403
    assert "超出您的权限范围" in answer.text
    assert answer.headers["content-type"].startswith("text/html")


def test_an_admin_without_a_unit_starts_at_the_top_of_the_tree(browser: TestClient, county: TrainRec) -> None:
    county.add_account(ADMIN, "root", Role.ADMIN, None, None, PASSWORD)
    sign_in(browser, "root")
    answer = browser.get("/")
    assert answer.headers["location"] == "/units/C1"


def test_the_api_keeps_answering_problem_json(browser: TestClient) -> None:
    sign_in(browser, "s1")
    answer = browser.get("/api/v1/orgs/S3/compliance", params={"year": 2024})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_pages_may_load_their_own_style_and_script_and_post_their_forms_back_only(browser: TestClient) -> None:
    policy = browser.get("/signin").headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["style-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script
    assert directives["form-action"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "data-autosubmit" in browser.get("/assets/trainrec.js").text
    api = browser.get("/api/v1/orgs/C1").headers["content-security-policy"]
    assert "form-action 'none'" in api  # the API's answers are data, never a page
