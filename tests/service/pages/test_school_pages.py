"""The school admin's pages: the staff list, a teacher's page with its enrolment and absence
forms, the approvals, and the sheet upload with its row report, on every backend."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openpyxl  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient

from domain.vocabulary import AssessmentResult, Form, Level, SchoolBasedContent, Selection
from service.app import TrainRec
from tests.conftest import ADMIN, PROVIDER, SCHOOL_ADMIN, SHANGHAI, Backend, Clock, build_county, define
from tests.service.pages.conftest import ACCOUNTS, PASSWORD, csrf_of, sign_in

TODAY = datetime.now(SHANGHAI).date()
K1_START = TODAY - timedelta(days=14)  # K1: three days of 8 h, credited the day after
AWARDED = K1_START + timedelta(days=3)
K2_START = TODAY + timedelta(days=21)  # K2: two days of 8 h, open for enrolment


@pytest.fixture
def county(backend: Backend) -> Iterator[TrainRec]:
    """The county of the page tests, today (a session's cookie is good for a while from now): K1,
    two weeks ago, credited to A001 (24 h); K2, owned by the county, open for enrolment."""
    clock = Clock(K1_START - timedelta(days=7))
    service = TrainRec(backend.fresh(), clock=clock)
    build_county(service)
    for username, (role, org, teacher_no) in ACCOUNTS.items():
        service.add_account(ADMIN, username, role, org, teacher_no, PASSWORD)
    define(service, "K1", starts_on=K1_START)
    service.enrol(SCHOOL_ADMIN, "K1", "A001")
    clock.set(K1_START + timedelta(days=2), hour=18)
    service.record_attendance(PROVIDER, "K1", 3, ["A001"], [])
    clock.set(AWARDED)
    service.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.PASS)
    service.award_credit(PROVIDER, "K1", "A001", Decimal(24))
    define(service, "K2", starts_on=K2_START, days=2)
    clock.now = datetime.now(UTC)
    yield service
    service.close()


def _follow(browser: TestClient, answer: object) -> str:
    location = str(answer.headers["location"])  # type: ignore[attr-defined]
    page = browser.get(location)
    assert page.status_code == 200, page.text
    return page.text


# --- the staff list -------------------------------------------------------------------------------
def test_a_school_admin_lists_and_searches_its_staff(browser: TestClient) -> None:
    sign_in(browser, "s1")
    page = browser.get("/teachers")
    assert page.status_code == 200, page.text
    for no, name in (("A001", "张伟"), ("A002", "王芳"), ("A003", "李娜")):
        assert f'href="/teachers/{no}"' in page.text
        assert name in page.text
    assert page.text.count("城关第一小学") == 3
    assert "刘洋" not in page.text  # S2's
    assert page.text.count('class="badge met">在职<') == 3
    found = browser.get("/teachers", params={"q": "王"})
    assert "王芳" in found.text
    assert "张伟" not in found.text
    assert "李娜" not in found.text
    none = browser.get("/teachers", params={"status": "departed"})
    assert "没有符合条件的教师" in none.text


def test_the_staff_list_pages_with_a_next_link(browser: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("service.pages.routes_school.PAGE", 4)
    sign_in(browser, "county")
    first = browser.get("/teachers")
    everyone = ("张伟", "王芳", "李娜", "刘洋", "陈静", "欧阳娜娜")
    assert [n for n in everyone if n in first.text] == ["张伟", "王芳", "李娜", "刘洋"]
    link = re.search(r'href="(/teachers\?after=[^"]+)"', first.text)
    assert link is not None
    second = browser.get(link[1].replace("&amp;", "&"))
    assert [n for n in everyone if n in second.text] == ["陈静", "欧阳娜娜"]
    assert "河西小学" in second.text
    assert "下一页" not in second.text


def test_a_provider_cannot_open_the_staff_list(browser: TestClient) -> None:
    sign_in(browser, "p1")
    refused = browser.get("/teachers")
    assert refused.status_code == 403
    assert "超出您的权限范围" in refused.text


# --- a teacher's page -----------------------------------------------------------------------------
def test_a_teachers_page_shows_the_transcript_and_totals(browser: TestClient, county: TrainRec) -> None:
    sign_in(browser, "s1")
    page = browser.get("/teachers/A001")
    assert page.status_code == 200, page.text
    text = page.text
    assert "张伟" in text
    assert "城关第一小学" in text
    assert "在职" in text
    assert "培训项目K1（K1）" in text
    for word in ("县级", "集中培训", "自主选学", AWARDED.isoformat(), "有效", "已认定学时"):
        assert word in text, word
    assert f"{county.policy.year_of(AWARDED)} 年度" in text
    assert "24 学时" in text
    assert "待评价项目" in text  # A001 has not evaluated K1 yet


def test_a_teacher_sees_their_own_page_and_not_anothers(browser: TestClient) -> None:
    sign_in(browser, "a001")
    own = browser.get("/teachers/A001")
    assert own.status_code == 200
    assert "张伟" in own.text
    assert "待评价项目：培训项目K1（K1）" in own.text
    assert "评价后可见结果" in own.text  # neither the result nor the hours before evaluating (R6)
    assert "已认定学时" not in own.text
    assert "尚无认定的学时" in own.text
    refused = browser.get("/teachers/A002")
    assert refused.status_code == 403
    assert "超出您的权限范围" in refused.text
    assert "王芳" not in refused.text


def test_a_supervisor_of_another_town_cannot_open_a_teachers_page(browser: TestClient, county: TrainRec) -> None:
    sign_in(browser, "town1")
    assert browser.get("/teachers/A001").status_code == 200
    refused = browser.get("/teachers/C001")  # 河西小学, T2's
    assert refused.status_code == 403


def test_a_school_admin_enrols_a_teacher_through_the_form(browser: TestClient) -> None:
    sign_in(browser, "s1")
    page = browser.get("/teachers/A002")
    assert f'<option value="K2">培训项目K2（K2，{K2_START} 起，16 学时）</option>' in page.text
    assert 'value="K1"' not in page.text  # ended
    done = browser.post("/teachers/A002/enrolments", data={"code": "K2", "csrf_token": csrf_of(page.text)})
    assert done.status_code == 303
    assert done.headers["location"] == "/teachers/A002?done=enrolled#enrolments"
    text = _follow(browser, done)
    assert "已报名。" in text
    assert "培训项目K2（K2）" in text
    assert f"{K2_START} 至 {K2_START + timedelta(days=1)}" in text
    assert "培训项目K2（K2，" not in text  # no longer offered
    again = browser.post("/teachers/A002/enrolments", data={"code": "K2", "csrf_token": csrf_of(page.text)})
    assert again.headers["location"] == "/teachers/A002?error=already_enrolled#enrolments"
    assert "该教师已报名该项目" in _follow(browser, again)


def test_a_form_without_its_csrf_token_is_refused(browser: TestClient, county: TrainRec) -> None:
    sign_in(browser, "s1")
    refused = browser.post("/teachers/A002/enrolments", data={"code": "K2"})
    assert refused.status_code == 403
    assert "表单校验失败" in refused.text
    assert browser.post("/approvals/programme", data={"code": "K2", "decision": "approved"}).status_code == 403
    assert "A002" not in str(county.roster(ADMIN, "K2"))


def test_an_absence_asked_on_the_teachers_page_is_approved_by_school_and_provider(browser: TestClient) -> None:
    sign_in(browser, "s1")
    page = browser.get("/teachers/A001")
    token = csrf_of(page.text)
    browser.post("/teachers/A001/enrolments", data={"code": "K2", "csrf_token": token})
    page = browser.get("/teachers/A001")
    assert '<option value="A002">王芳（A002）</option>' in page.text  # a colleague as substitute
    asked = browser.post("/teachers/A001/absences", data={
        "code": "K2", "kind": "leave", "reason": "外出参加教研活动", "substitute": "", "csrf_token": token})
    assert asked.status_code == 303
    assert asked.headers["location"] == "/teachers/A001?done=absence_requested#enrolments"
    text = _follow(browser, asked)
    assert "缺席申请已提交。" in text
    assert "请假 · 待审批" in text

    waiting = browser.get("/approvals")
    assert waiting.status_code == 200
    assert "张伟" in waiting.text
    assert "培训项目K2" in waiting.text
    assert "由学校审批" in waiting.text
    decided = browser.post("/approvals/absence", data={
        "code": "K2", "teacher_no": "A001", "by": "school", "decision": "approved", "reason": "",
        "csrf_token": token})
    assert decided.headers["location"] == "/approvals?done=decided"
    after = _follow(browser, decided)
    assert "已审批。" in after
    assert "没有待审批的缺席申请" in after

    browser.post("/signout", data={"csrf_token": token})
    sign_in(browser, "p1")
    provider = browser.get("/approvals")
    assert "由培训机构审批" in provider.text
    done = browser.post("/approvals/absence", data={
        "code": "K2", "teacher_no": "A001", "by": "provider", "decision": "approved", "reason": "",
        "csrf_token": csrf_of(provider.text)})
    assert done.headers["location"] == "/approvals?done=decided"
    browser.post("/signout", data={"csrf_token": csrf_of(provider.text)})
    sign_in(browser, "s1")
    assert "请假 · 已批准" in browser.get("/teachers/A001").text


def test_a_supervisor_approves_a_school_based_programme(browser: TestClient, county: TrainRec) -> None:
    define(county, "X1", starts_on=K2_START, level=Level.SCHOOL, form=Form.SCHOOL_BASED,
           selection=Selection.SCHOOL_BASED, content=SchoolBasedContent.DESIGNATED, provider_id="S1",
           owner_org_id="S1")
    sign_in(browser, "town1")
    waiting = browser.get("/approvals")
    assert waiting.status_code == 200
    assert "<strong>培训项目X1</strong>（X1）" in waiting.text
    assert "校本研修" in waiting.text
    token = csrf_of(waiting.text)
    unexplained = browser.post("/approvals/programme", data={"code": "X1", "decision": "rejected", "reason": "",
                                                             "csrf_token": token})
    assert unexplained.headers["location"] == "/approvals?error=reason_required"
    assert "须填写理由" in _follow(browser, unexplained)
    approved = browser.post("/approvals/programme", data={"code": "X1", "decision": "approved", "reason": "",
                                                          "csrf_token": token})
    assert approved.headers["location"] == "/approvals?done=decided"
    assert "没有待审批的项目" in _follow(browser, approved)


def test_an_auditor_decides_nothing(browser: TestClient) -> None:
    sign_in(browser, "audit")
    assert browser.get("/approvals").status_code == 403


# --- sheet upload ---------------------------------------------------------------------------------
SHEET = "项目编号,工号,姓名\nK2,A003,李娜\nK2,B001,刘洋\n".encode()


def test_a_school_admin_uploads_an_enrolment_sheet_and_reads_the_row_report(browser: TestClient,
                                                                           county: TrainRec) -> None:
    sign_in(browser, "s1")
    form = browser.get("/imports")
    assert form.status_code == 200
    assert '<option value="enrolments">报名名单</option>' in form.text
    assert '<option value="teachers">教师名册</option>' in form.text
    assert "历史学时" not in form.text  # supervisors' work
    token = csrf_of(form.text)
    answer = browser.post("/imports", data={"kind": "enrolments", "format": "page", "csrf_token": token},
                          files={"file": ("报名.csv", SHEET, "text/csv")})
    assert answer.status_code == 200, answer.text
    text = answer.text
    assert "报名名单 · 报名.csv" in text
    rows = re.findall(r'<td class="num" data-label="行号">(\d+)</td>\s*<td data-label="结果"><span class="badge '
                      r'\w+">([^<]+)</span></td>\s*<td data-label="工号">(\w*)</td>\s*<td data-label="姓名">(\w*)</td>',
                      text)
    # the report names a refused row's teacher (an accepted row's is on record)
    assert rows == [("2", "已导入", "A003", ""), ("3", "拒绝", "B001", "刘洋")]
    assert "超出您的权限范围" in text
    assert re.search(r'<div class="name">已导入</div><div class="value">1</div>', text)
    assert re.search(r'<div class="name">拒绝</div><div class="value">1</div>', text)
    assert "A003" in str(county.roster(ADMIN, "K2"))
    # the same report as a workbook, saved from the page's link without a second upload
    link = re.search(r'<a class="button" href="data:application/vnd\.openxmlformats-officedocument\.spreadsheetml'
                     r'\.sheet;base64,([A-Za-z0-9+/=]+)" download="([^"]+)">下载 Excel 结果表</a>', text)
    assert link is not None
    assert link[2].endswith(".xlsx")
    assert "报名" in link[2]
    saved = openpyxl.load_workbook(io.BytesIO(base64.b64decode(link[1])))
    saved_lines = [[cell.value for cell in row] for row in saved["导入结果"].iter_rows(min_row=2, max_row=3)]
    assert [line[:4] for line in saved_lines] == [[2, "已导入", None, None], [3, "拒绝", "B001", "刘洋"]]

    sheet = browser.post("/imports", data={"kind": "enrolments", "format": "xlsx", "csrf_token": token},
                         files={"file": ("报名.csv", SHEET, "text/csv")})
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in sheet.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(sheet.content))
    lines = [[cell.value for cell in row] for row in book["导入结果"].iter_rows(min_row=2, max_row=3)]
    assert [line[:2] for line in lines] == [[2, "已导入（此前）"], [3, "拒绝"]]
    assert lines[1][2] == "B001"
    assert lines[1][3] == "刘洋"


def test_an_unreadable_sheet_shows_the_form_again_with_the_reason(browser: TestClient) -> None:
    sign_in(browser, "s1")
    token = csrf_of(browser.get("/imports").text)
    answer = browser.post("/imports", data={"kind": "enrolments", "csrf_token": token},
                          files={"file": ("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 64, "application/vnd.ms-excel")})
    assert answer.status_code == 422
    assert "不支持旧版 .xls 文件" in answer.text
    assert 'name="file"' in answer.text


def test_an_upload_without_its_csrf_token_is_refused(browser: TestClient, county: TrainRec) -> None:
    sign_in(browser, "s1")
    refused = browser.post("/imports", data={"kind": "enrolments"}, files={"file": ("a.csv", SHEET, "text/csv")})
    assert refused.status_code == 403
    assert "A003" not in str(county.roster(ADMIN, "K2"))


def test_a_teacher_imports_nothing(browser: TestClient) -> None:
    sign_in(browser, "a001")
    assert browser.get("/imports").status_code == 403


def test_a_teachers_page_links_the_signed_credential(browser: TestClient) -> None:
    sign_in(browser, "s1")
    page = browser.get("/teachers/A001")
    assert '<a class="button secondary" href="/api/v1/teachers/A001/credential" download>下载电子证书</a>' in page.text
