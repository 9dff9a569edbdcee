"""The provider's pages: its programmes, a programme's roster with names and schools, attendance
marked per session (one sheet), assessments, credits, and what is overdue in red; a teacher sees the
definition only, a caller outside the scope the 403 page. On every backend.

The service's clock starts 20 days before today (the programmes are defined and filled then) and is
then set to now, so the session cookie a sign-in issues is good now."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from domain.vocabulary import Form
from service.app import TrainRec
from tests.conftest import ADMIN, SHANGHAI, Backend, Clock, build_county, define
from tests.service.pages.conftest import ACCOUNTS, PASSWORD, csrf_of, sign_in

TODAY = datetime.now(SHANGHAI).date()
K1_STARTS = TODAY - timedelta(days=10)  # three days of 8 h: held, ended; assessments due 5 days after its end
K2_STARTS = TODAY + timedelta(days=5)  # not started yet
K3_ON = TODAY - timedelta(days=19)  # one online day: its evaluations were due 10 days after it, 9 days ago


@pytest.fixture
def clock() -> Clock:
    return Clock(TODAY - timedelta(days=20))


@pytest.fixture
def county(backend: Backend, clock: Clock) -> Iterator[TrainRec]:
    service = TrainRec(backend.fresh(), clock=clock)
    build_county(service)
    for username, (role, org, teacher_no) in ACCOUNTS.items():
        service.add_account(ADMIN, username, role, org, teacher_no, PASSWORD)
    define(service, "K1", starts_on=K1_STARTS)
    define(service, "K2", starts_on=K2_STARTS, days=2, hours_per_day=6)
    define(service, "K3", starts_on=K3_ON, days=1, hours_per_day=4, form=Form.ONLINE)
    for teacher_no in ("A001", "A002", "A003"):
        service.enrol(ADMIN, "K1", teacher_no)
    service.enrol(ADMIN, "K3", "B001")
    clock.now = datetime.now(UTC)
    yield service
    service.close()


def _day(value: date) -> str:
    return value.isoformat()


def test_a_provider_lists_its_programmes_with_names_and_states(browser: TestClient) -> None:
    assert sign_in(browser, "p1") == "/"
    assert browser.get("/").headers["location"] == "/programmes"
    page = browser.get("/programmes")
    assert page.status_code == 200, page.text
    text = page.text
    assert "我的项目" in text
    assert 'href="/programmes/K1"' in text
    assert "培训项目K1" in text
    assert "培训项目K2" in text
    assert text.count("县教师进修学校") == 3  # the provider's name on each row
    assert "县级 · 网络研修 · 自主选学" in text
    assert "县级 · 集中培训 · 自主选学" in text
    assert f"{_day(K1_STARTS)} 至 {_day(K1_STARTS + timedelta(days=2))}" in text
    assert "已结束" in text
    assert "未开始" in text
    assert re.search(r'培训项目K1.*?data-label="学时">24</td>', text, re.S)
    assert re.search(r'培训项目K2.*?data-label="学时">12</td>', text, re.S)


def test_the_list_filters_and_pages(browser: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(browser, "county")
    found = browser.get("/programmes", params={"q": "K2", "level": "", "form": "", "year": ""})
    assert found.status_code == 200
    assert "培训项目K2" in found.text
    assert "培训项目K1" not in found.text
    assert "培训项目" in found.text
    assert browser.get("/programmes", params={"level": "school"}).text.count('href="/programmes/K') == 0
    monkeypatch.setattr("service.pages.routes_programmes.PAGE", 1)
    first = browser.get("/programmes", params={"level": "county", "form": "concentrated"})
    assert "培训项目K1" in first.text
    assert "培训项目K2" not in first.text
    following = re.search(r'href="(/programmes\?[^"]*after=[^"]*)"', first.text)
    assert following is not None
    assert "level=county" in following[1]
    assert "form=concentrated" in following[1]
    second = browser.get(following[1].replace("&amp;", "&"))
    assert "培训项目K2" in second.text
    assert "培训项目K1" not in second.text
    assert "下一页" not in second.text


def test_a_provider_sees_the_roster_with_names_schools_and_what_is_overdue(browser: TestClient) -> None:
    sign_in(browser, "p1")
    page = browser.get("/programmes/K1")
    assert page.status_code == 200, page.text
    text = page.text
    assert "培训项目K1" in text
    assert "县教师进修学校" in text
    assert "示范县" in text  # the owner
    assert "24 学时" in text
    for no in (1, 2, 3):
        assert f"第 {no} 次" in text
        assert f'action="/programmes/K1/sessions/{no}/attendance"' in text
    assert _day(K1_STARTS + timedelta(days=1)) in text
    for name in ("张伟", "王芳", "李娜"):
        assert name in text
    assert "城关第一小学" in text
    assert "刘洋" not in text
    assert "报名</div><div class=\"value\">3 人" in text
    # the assessments were due 5 days after the end: all three overdue, in red at the top
    assert 'class="notice error overdue"' in text
    assert "逾期未考核 3 人：" in text
    assert "张伟（A001）、王芳（A002）、李娜（A003）" in text
    assert text.count('name="mark_A001" value="present" checked') == 3  # present by default, each session


def test_a_provider_marks_a_session_and_sees_the_rates(browser: TestClient, county: TrainRec) -> None:
    sign_in(browser, "p1")
    token = csrf_of(browser.get("/programmes/K1").text)
    sent = browser.post("/programmes/K1/sessions/1/attendance",
                        data={"csrf_token": token, "mark_A001": "present", "mark_A002": "present",
                              "mark_A003": "absent", "late_reason": ""})
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == "/programmes/K1?done=attendance#session-1"
    page = browser.get("/programmes/K1", params={"done": "attendance"})
    assert "考勤已记录。" in page.text
    rows = {m[0]: m[1] for m in re.findall(r'<td data-label="工号">(\w+)</td>.*?data-label="出勤">(\d+ / \d+)</td>',
                                            page.text, re.S)}
    assert rows == {"A001": "1 / 3", "A002": "1 / 3", "A003": "0 / 3"}
    roster = county.roster(ADMIN, "K1")
    assert [e["sessions_present"] for e in roster["enrolled"]] == [1, 1, 0]
    assert [e["sessions_marked"] for e in roster["enrolled"]] == [1, 1, 1]
    # the sheet starts from the marks recorded: A003 absent at session 1 only
    assert 'name="mark_A003" value="absent" checked' in page.text
    assert page.text.count('name="mark_A003" value="present" checked') == 2
    assert page.text.count('name="mark_A001" value="present" checked') == 3
    assert "已记录 3 人" in page.text
    assert page.text.count("未记录") == 2
    # attendance 2 of 9 session places: 22.2 %; two of three attended
    assert "22.2%" in page.text
    assert "66.7%" in page.text


def test_a_provider_assesses_and_awards_hours(browser: TestClient, county: TrainRec) -> None:
    sign_in(browser, "p1")
    token = csrf_of(browser.get("/programmes/K1").text)
    sent = browser.post("/programmes/K1/assessments", data={"csrf_token": token, "teacher_no": "A001",
                                                           "attitude": "5", "assignments": "4", "result": "excellent"})
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == "/programmes/K1?done=assessed#assessments"
    page = browser.get("/programmes/K1", params={"done": "assessed"})
    assert "考核已记录。" in page.text
    assert "优秀" in page.text
    assert "逾期未考核 2 人：" in page.text
    assert "王芳（A002）、李娜（A003）" in page.text
    assert 'action="/programmes/K1/credits"' in page.text
    assert page.text.count('action="/programmes/K1/assessments"') == 2  # A002, A003 still to assess
    sent = browser.post("/programmes/K1/credits", data={"csrf_token": token, "teacher_no": "A001", "hours": "24"})
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == "/programmes/K1?done=credited#credits"
    page = browser.get("/programmes/K1", params={"done": "credited"})
    assert "学时已认定。" in page.text
    assert "已认定 24 学时" in page.text
    assert 'action="/programmes/K1/credits"' not in page.text
    lines = county.transcript(ADMIN, "A001")["lines"]
    assert [(line["programme_code"], float(line["hours"])) for line in lines] == [("K1", 24.0)]
    again = browser.post("/programmes/K1/credits", data={"csrf_token": token, "teacher_no": "A001", "hours": "24"})
    assert again.headers["location"] == "/programmes/K1?error=credit_already_awarded#credits"
    assert "该项目已认定有效学时" in browser.get("/programmes/K1", params={"error": "credit_already_awarded"}).text


def test_a_refused_assessment_comes_back_with_its_reason(browser: TestClient) -> None:
    sign_in(browser, "p1")
    token = csrf_of(browser.get("/programmes/K1").text)
    sent = browser.post("/programmes/K1/assessments", data={"csrf_token": token, "teacher_no": "A002",
                                                           "attitude": "9", "assignments": "4", "result": "pass"})
    assert sent.status_code == 303
    assert sent.headers["location"] == "/programmes/K1?error=invalid_score#assessments"
    page = browser.get("/programmes/K1", params={"error": "invalid_score"})
    assert "评分须为 1–5 的整数" in page.text
    assert "逾期未考核 3 人：" in page.text


def test_a_form_without_its_csrf_token_is_refused(browser: TestClient, county: TrainRec) -> None:
    sign_in(browser, "p1")
    for path, data in (("/programmes/K1/sessions/1/attendance", {"mark_A001": "absent"}),
                       ("/programmes/K1/assessments", {"teacher_no": "A001", "attitude": "5", "assignments": "5",
                                                       "result": "pass"}),
                       ("/programmes/K1/credits", {"teacher_no": "A001", "hours": "24"})):
        refused = browser.post(path, data=data)
        assert refused.status_code == 403, path
        assert "表单校验失败" in refused.text
    assert county.roster(ADMIN, "K1")["counts"]["assessed"] == 0
    assert [e["sessions_marked"] for e in county.roster(ADMIN, "K1")["enrolled"]] == [0, 0, 0]


def test_a_teacher_sees_the_definition_only(browser: TestClient) -> None:
    sign_in(browser, "a001")
    page = browser.get("/programmes/K1")
    assert page.status_code == 200, page.text
    assert "培训项目K1" in page.text
    assert "您已报名本项目。" in page.text
    assert "第 3 次" in page.text
    assert "学员名单" not in page.text
    assert "王芳" not in page.text
    assert "attendance" not in page.text
    other = browser.get("/programmes/K2")
    assert "您未报名本项目。" in other.text
    token = csrf_of(page.text)
    refused = browser.post("/programmes/K1/sessions/1/attendance", data={"csrf_token": token, "mark_A001": "present"})
    assert refused.status_code == 403
    assert "出错了" in refused.text


def test_a_caller_outside_the_scope_gets_the_403_page(browser: TestClient, county: TrainRec) -> None:
    sign_in(browser, "town1")  # below the owner (the county) and beside the provider: not its programme
    refused = browser.get("/programmes/K1")
    assert refused.status_code == 403
    assert "超出您的权限范围" in refused.text
    token = csrf_of(refused.text)
    post = browser.post("/programmes/K1/sessions/1/attendance", data={"csrf_token": token, "mark_A001": "absent"})
    assert post.status_code == 403
    assert county.roster(ADMIN, "K1")["enrolled"][0]["sessions_marked"] == 0


def test_a_county_supervisor_may_mark_and_an_auditor_only_read(browser: TestClient) -> None:
    sign_in(browser, "county")
    page = browser.get("/programmes/K1")
    assert "学员名单" in page.text
    assert 'action="/programmes/K1/sessions/1/attendance"' in page.text
    browser.post("/signout", data={"csrf_token": csrf_of(page.text)})
    sign_in(browser, "audit")
    page = browser.get("/programmes/K1")
    assert page.status_code == 200
    assert "学员名单" in page.text
    assert "张伟" in page.text
    assert "/attendance" not in page.text
    assert 'action="/programmes/K1/assessments"' not in page.text



def test_an_evaluation_overdue_after_a_late_assessment_shows_in_red(browser: TestClient) -> None:
    sign_in(browser, "p1")
    page = browser.get("/programmes/K3")
    assert "逾期未考核 1 人：</strong>刘洋（B001）" in page.text
    assert "城关中学" in page.text
    assert "网络研修" in page.text
    sent = browser.post("/programmes/K3/assessments", data={"csrf_token": csrf_of(page.text), "teacher_no": "B001",
                                                           "attitude": "4", "assignments": "3", "result": "pass"})
    assert sent.headers["location"] == "/programmes/K3?done=assessed#assessments"
    page = browser.get("/programmes/K3")
    assert "逾期未考核" not in page.text.split("<h2>学员名单</h2>")[0]
    assert "逾期未评价 1 人：</strong>刘洋（B001）" in page.text
    assert "合格 <span class=\"badge plain\">逾期考核</span>" in page.text
    assert 'name="hours" inputmode="decimal" size="6" value="4"' in page.text  # the programme's 4 hours


def test_a_school_admin_reads_the_definition_but_not_the_roster(browser: TestClient) -> None:
    sign_in(browser, "s1")  # the programme is open to its teachers; its roster is the provider's and owner's
    page = browser.get("/programmes/K1")
    assert page.status_code == 200, page.text
    assert "培训项目K1" in page.text
    assert "学员名单" not in page.text
    assert "您已报名" not in page.text


def test_the_roster_page_links_its_workbook_which_the_session_cookie_downloads(browser: TestClient) -> None:
    import io

    from openpyxl import load_workbook

    sign_in(browser, "p1")
    page = browser.get("/programmes/K1")
    link = re.search(r'href="([^"]+)"[^>]*>导出 Excel<', page.text)
    assert link is not None
    assert link[1] == "/api/v1/programmes/K1/roster.xlsx"
    answer = browser.get(link[1])
    assert answer.status_code == 200, answer.text
    rows = list(load_workbook(io.BytesIO(answer.content))["花名册"].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1], row[2]) for row in rows] == [
        ("A001", "张伟", "城关第一小学"), ("A002", "王芳", "城关第一小学"), ("A003", "李娜", "城关第一小学")]
    sign_in(browser, "a001")  # a teacher reads no roster: no link, and the workbook is refused
    assert "导出 Excel" not in browser.get("/programmes/K1").text
    assert browser.get(link[1]).status_code == 403
