"""The printed records from the pages: the 打印学时档案 link and the 开具学时证明 form on a teacher's
page (a school's) and on the teacher's own page, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from domain.vocabulary import AssessmentResult
from service.app import TrainRec
from tests.conftest import ADMIN, PROVIDER, SCHOOL_ADMIN, SHANGHAI, Backend, Clock, build_county, define, teacher_actor
from tests.printing_support import pdf_text, require_pdf_font
from tests.service.pages.conftest import ACCOUNTS, PASSWORD, csrf_of, sign_in

TODAY = datetime.now(SHANGHAI).date()
K1_START = TODAY - timedelta(days=14)  # three days of 8 h, assessed, evaluated and credited since
YEAR = (K1_START + timedelta(days=2)).year  # the reporting year of K1's credit


@pytest.fixture
def county(backend: Backend) -> Iterator[TrainRec]:
    clock = Clock(K1_START - timedelta(days=7))
    service = TrainRec(backend.fresh(), clock=clock)
    build_county(service)
    for username, (role, org, teacher_no) in ACCOUNTS.items():
        service.add_account(ADMIN, username, role, org, teacher_no, PASSWORD)
    define(service, "K1", starts_on=K1_START)
    service.enrol(SCHOOL_ADMIN, "K1", "A001")
    clock.set(K1_START + timedelta(days=3))
    service.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.PASS)
    service.evaluate(teacher_actor("A001"), "K1", "A001", 5, 5, 5)
    service.award_credit(PROVIDER, "K1", "A001", Decimal(24))
    clock.now = datetime.now(UTC)
    yield service
    service.close()


def test_a_school_admin_prints_the_transcript_and_issues_a_certificate_from_the_teachers_page(
    browser: TestClient,
) -> None:
    require_pdf_font()
    sign_in(browser, "s1")
    page = browser.get("/teachers/A001")
    assert page.status_code == 200, page.text
    assert 'href="/api/v1/teachers/A001/transcript.pdf"' in page.text
    assert "打印学时档案" in page.text
    assert "开具学时证明" in page.text
    assert f'<option value="year:{YEAR}">{YEAR} 年度</option>' in page.text
    assert '<option value="programme:K1">培训项目K1（K1）</option>' in page.text
    printed = browser.get("/api/v1/teachers/A001/transcript.pdf")
    assert printed.status_code == 200
    assert "培训项目K1（K1）" in pdf_text(printed.content)
    refused = browser.post("/teachers/A001/certificates", data={"subject": f"year:{YEAR}"})
    assert refused.status_code == 403
    issued = browser.post("/teachers/A001/certificates", data={
        "subject": f"year:{YEAR}", "purpose": "职称评审", "csrf_token": csrf_of(page.text)})
    assert issued.status_code == 303, issued.text
    location = str(issued.headers["location"])
    assert location.startswith("/api/v1/certificates/ZM-")
    certificate = browser.get(location)
    assert certificate.status_code == 200
    text = pdf_text(certificate.content)
    assert "经认定共计 24 学时" in text
    assert "职称评审" in text


def test_a_teacher_issues_their_own_certificate_and_is_told_why_one_is_refused(browser: TestClient) -> None:
    sign_in(browser, "a001")
    page = browser.get("/me")
    assert page.status_code == 200, page.text
    assert 'href="/api/v1/teachers/A001/transcript.pdf"' in page.text
    assert "开具学时证明" in page.text
    refused = browser.post("/teachers/A001/certificates", data={"subject": "year:1989",
                                                                "csrf_token": csrf_of(page.text)})
    assert (refused.status_code, refused.headers["location"]) == (303, "/me?error=invalid_year")
    issued = browser.post("/teachers/A001/certificates", data={"subject": "programme:K1",
                                                               "csrf_token": csrf_of(page.text)})
    assert issued.status_code == 303
    assert str(issued.headers["location"]).startswith("/api/v1/certificates/ZM-")


def test_an_auditor_sees_the_print_link_but_no_certificate_form(browser: TestClient) -> None:
    sign_in(browser, "audit")
    page = browser.get("/teachers/A001")
    assert page.status_code == 200, page.text
    assert "打印学时档案" in page.text
    assert "开具学时证明" not in page.text
