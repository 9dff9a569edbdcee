"""A county with an account for each role, and a browser-like client that signs in through the page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from domain.vocabulary import Role
from service.api.main import create_app
from service.app import TrainRec
from tests.conftest import ADMIN, Backend, build_county
from tests.service.api.conftest import SECRET

PASSWORD = "correct horse battery"
ACCOUNTS = {
    "county": (Role.SUPERVISOR, "C1", None),
    "town1": (Role.SUPERVISOR, "T1", None),
    "s1": (Role.SCHOOL_ADMIN, "S1", None),
    "p1": (Role.PROVIDER, "P1", None),
    "a001": (Role.TEACHER, None, "A001"),
    "audit": (Role.AUDITOR, "C1", None),
}


@pytest.fixture
def county(backend: Backend) -> Iterator[TrainRec]:
    service = TrainRec(backend.fresh())
    build_county(service)
    for username, (role, org, teacher_no) in ACCOUNTS.items():
        service.add_account(ADMIN, username, role, org, teacher_no, PASSWORD)
    yield service
    service.close()


@pytest.fixture
def browser(county: TrainRec) -> TestClient:
    """A client that follows no redirects by itself (the tests look at each)."""
    return TestClient(create_app(county, SECRET), raise_server_exceptions=False, follow_redirects=False)


FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(browser: TestClient, username: str, password: str = PASSWORD, next_path: str = "/") -> str:
    """Sign in through the page as a person does; returns where the page sent the browser."""
    form = browser.get("/signin", params={"next": next_path})
    assert form.status_code == 200, form.text
    token = FORM_TOKEN.search(form.text)
    assert token is not None
    answer = browser.post("/signin", data={"username": username, "password": password, "form_token": token[1],
                                           "next": next_path})
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def csrf_of(page_html: str) -> str:
    found = CSRF.search(page_html)
    assert found is not None, "the page has no form with a CSRF token"
    return found[1]
