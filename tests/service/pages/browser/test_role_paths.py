"""Each role's main path through the pages in a real Chromium against a real server: sign in through the
form, do the thing, see the result, sign out (a supervisor drills down to a short teacher, a teacher
enrols from the catalogue, evaluates a programme and opens a dispute with a scanned sheet, a school
admin enrols a teacher, a provider marks a session, an auditor verifies the chain, a supervisor
resolves a dispute at the desk); the refusals a person can meet (a wrong password, a disabled account,
a forged form, another teacher's page); and each role's home page photographed at desktop and phone
widths into var/screenshots/.

A role's path is one test function over the `page` fixture (harness.sign_in first)."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from domain.vocabulary import AssessmentResult
from tests.conftest import ADMIN, define
from tests.service.pages.browser.harness import SCREENSHOTS, path_of, playwright_api, sign_in, sign_out
from tests.service.pages.conftest import ACCOUNTS

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.service.pages.browser.conftest import Site

pytestmark = pytest.mark.browser

HOMES = {"county": "/units/C1", "town1": "/units/T1", "s1": "/units/S1", "p1": "/programmes", "a001": "/me",
         "audit": "/units/C1"}


def expect(target: Any) -> Any:
    """Playwright's `expect` (imported here only where Playwright is: elsewhere the tests skip)."""
    api = playwright_api()
    assert api is not None
    return api.expect(target)


def test_a_supervisor_signs_in_drills_down_to_a_short_teacher_and_signs_out(page: Page) -> None:
    landed = sign_in(page, "county")
    assert landed is not None
    assert (landed.status, path_of(page.url)) == (200, "/units/C1")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("示范县")
    expect(page.locator("header.top")).to_have_css("background-color", "rgb(23, 58, 99)")  # the style sheet
    expect(page.get_by_text("在册教师 6 人")).to_be_visible()
    figures = page.locator(".grid .figure")
    assert figures.count() == 9
    # nothing recorded this year: the average hours are 0 and short
    short = page.locator(".grid .figure.short", has_text="人均学时")
    expect(short).to_be_visible()
    expect(short.locator(".value")).to_have_text("0 学时")
    expect(short.locator(".badge")).to_have_text("未达标")
    shown = re.search(r"(\d{4}) 年度", heading.inner_text())
    assert shown is not None
    year = str(int(shown[1]) - 1)
    with page.expect_navigation():  # the chooser sends its form by itself (a line of script)
        page.get_by_label("年度").select_option(year)
    assert path_of(page.url) == f"/units/C1?year={year}"
    expect(heading).to_contain_text(f"{year} 年度")

    with page.expect_navigation():
        page.locator("table").get_by_role("link", name="城关镇").click()
    assert path_of(page.url) == f"/units/T1?year={year}"
    expect(heading).to_contain_text("城关镇")
    expect(page.get_by_text("在册教师 4 人")).to_be_visible()
    with page.expect_navigation():
        page.locator("table").get_by_role("link", name="城关第一小学").click()
    assert path_of(page.url) == f"/units/S1?year={year}"
    expect(heading).to_contain_text("城关第一小学")

    behind = page.locator("details", has_text="人均学时")
    teacher = behind.get_by_role("link", name="A001")
    expect(teacher).to_be_hidden()  # folded until opened
    behind.locator("summary").click()
    expect(teacher).to_be_visible()
    expect(teacher).to_have_attribute("href", "/teachers/A001")
    expect(behind.locator("tr", has=page.get_by_role("link", name="A001"))).to_contain_text("张伟")
    expect(behind.locator("summary")).to_contain_text("3 人")

    out = sign_out(page)
    assert out is not None
    assert (out.status, path_of(page.url)) == (200, "/signin?done=signed_out")
    expect(page.get_by_role("status")).to_have_text("已退出。")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    again = page.goto("/units/C1")
    assert again is not None
    assert path_of(page.url) == "/signin?next=/units/C1"


def test_a_wrong_password_shows_the_chinese_error(page: Page) -> None:
    answer = sign_in(page, "county", "wrong password!")
    assert answer is not None
    assert (answer.status, path_of(page.url)) == (401, "/signin")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    expect(page.get_by_label("用户名", exact=True)).to_have_value("county")
    assert "trainrec_session" not in {cookie.get("name") for cookie in page.context.cookies()}


def test_a_disabled_account_is_sent_back_to_sign_in_on_the_next_page(page: Page, site: Site) -> None:
    sign_in(page, "s1")
    assert path_of(page.url) == "/units/S1"
    expect(page.get_by_role("heading", level=1)).to_contain_text("城关第一小学")
    site.service.disable_account(ADMIN, "s1", "离职")
    page.reload()
    assert path_of(page.url) == "/signin?next=/units/S1"
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    expect(page.get_by_role("button", name="退出")).to_have_count(0)


def test_a_form_whose_csrf_token_was_altered_is_refused(page: Page) -> None:
    sign_in(page, "s1")
    page.evaluate("""() => {
        document.querySelector('form[action="/signout"] input[name="csrf_token"]').value = 'forged';
    }""")
    refused = sign_out(page)
    assert refused is not None
    assert (refused.status, path_of(page.url)) == (403, "/signout")
    expect(page.get_by_role("heading", level=1)).to_have_text("表单校验失败，请刷新页面后重试")
    still = page.goto("/units/S1")
    assert still is not None
    assert still.status == 200  # the session was not ended by the forged form
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def test_a_teacher_lands_on_their_own_page_and_cannot_open_another_teachers(page: Page) -> None:
    landed = sign_in(page, "a001")
    assert landed is not None
    assert (landed.status, path_of(page.url)) == (200, "/me")
    expect(page.get_by_role("heading", level=1)).to_contain_text("张伟")
    other = page.goto("/teachers/A002")
    assert other is not None
    assert other.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("超出您的权限范围")
    expect(page.get_by_text("王芳")).to_have_count(0)


def test_a_teacher_chooses_a_programme_from_the_catalogue_and_signs_out(page: Page, site: Site) -> None:
    soon = site.service.policy.local_date(site.service.clock()) + timedelta(days=30)
    define(site.service, "OPEN1", starts_on=soon)
    define(site.service, "OPEN2", starts_on=soon, capacity=2)
    sign_in(page, "a001")
    assert path_of(page.url) == "/me"
    with page.expect_navigation():
        page.get_by_role("navigation").get_by_role("link", name="选课").click()
    assert path_of(page.url) == "/catalogue"
    row = page.locator("tr", has_text="OPEN2")
    expect(row).to_contain_text("培训项目OPEN2")
    expect(row).to_contain_text("剩余 2 / 2")
    expect(row).to_contain_text("县教师进修学校")
    with page.expect_navigation() as enrolled:
        row.get_by_role("button", name="报名").click()
    assert enrolled.value is not None
    assert (enrolled.value.status, path_of(page.url)) == (200, "/catalogue?done=enrolled")
    expect(page.get_by_role("status")).to_have_text("已报名。")
    expect(page.locator("tr", has_text="OPEN2")).to_have_count(0)  # chosen: no longer to choose
    expect(page.locator("tr", has_text="OPEN1")).to_have_count(1)
    assert [p["seats_taken"] for p in site.service.list_programmes(ADMIN, q="OPEN2")["items"]] == [1]
    sign_out(page)
    assert path_of(page.url) == "/signin?done=signed_out"


def test_a_school_admin_enrols_a_teacher_of_the_school_and_sees_it_listed(page: Page, site: Site) -> None:
    define(site.service, "OPEN1", starts_on=site.service.policy.local_date(site.service.clock()) + timedelta(days=30))
    sign_in(page, "s1")
    assert path_of(page.url) == "/units/S1"
    with page.expect_navigation():
        page.get_by_role("navigation").get_by_role("link", name="教师").click()
    assert path_of(page.url) == "/teachers"
    with page.expect_navigation():
        page.get_by_role("link", name="王芳").click()
    assert path_of(page.url) == "/teachers/A002"
    expect(page.get_by_role("heading", level=1)).to_contain_text("王芳")
    form = page.locator('form[action="/teachers/A002/enrolments"]')
    form.get_by_label("项目").select_option("OPEN1")
    with page.expect_navigation() as done:
        form.get_by_role("button", name="报名").click()
    assert done.value is not None
    assert (done.value.status, path_of(page.url)) == (200, "/teachers/A002?done=enrolled")
    expect(page.get_by_role("status")).to_have_text("已报名。")
    expect(page.locator("#enrolments + .card tbody tr")).to_have_count(1)
    expect(page.locator("#enrolments + .card tbody tr")).to_contain_text("培训项目OPEN1（OPEN1）")
    sign_out(page)
    assert path_of(page.url) == "/signin?done=signed_out"


def test_an_auditor_verifies_the_whole_chain(page: Page, site: Site) -> None:
    sign_in(page, "audit")
    assert path_of(page.url) == "/units/C1"
    head = site.service.recorder.max_notification_id()  # signing in is recorded too
    with page.expect_navigation():
        page.get_by_role("navigation").get_by_role("link", name="审计").click()
    assert path_of(page.url) == "/audit"
    page.get_by_label("从头完整校验").check()
    with page.expect_navigation() as checked:
        page.get_by_role("button", name="校验").click()
    assert checked.value is not None
    assert checked.value.status == 200
    expect(page.get_by_role("status")).to_have_text(f"校验通过：已核对 {head} 个事件，未发现改动。")
    sign_out(page)
    assert path_of(page.url) == "/signin?done=signed_out"


def test_a_provider_marks_todays_session_and_sees_the_attendance(page: Page, site: Site) -> None:
    define(site.service, "K1", starts_on=site.service.policy.local_date(site.service.clock()))
    for teacher_no in ("A001", "A002", "A003"):
        site.service.enrol(ADMIN, "K1", teacher_no)
    sign_in(page, "p1")
    assert path_of(page.url) == "/programmes"
    with page.expect_navigation():
        page.get_by_role("link", name="培训项目K1").click()
    assert path_of(page.url) == "/programmes/K1"
    session = page.locator("#session-1")
    session.locator("tr", has_text="李娜").get_by_label("缺勤").check()
    with page.expect_navigation() as sent:
        session.get_by_role("button", name="提交第 1 次考勤").click()
    assert sent.value is not None
    assert (sent.value.status, path_of(page.url)) == (200, "/programmes/K1?done=attendance")
    expect(page.get_by_role("status")).to_have_text("考勤已记录。")
    for name, present in (("张伟", "1 / 1"), ("王芳", "1 / 1"), ("李娜", "0 / 1")):  # of the one session held
        expect(page.locator("tr", has_text=name).locator('[data-label="出勤"]').first).to_have_text(present)
    marks = site.service.roster(ADMIN, "K1")["enrolled"]
    assert [e["sessions_present"] for e in marks] == [1, 1, 0]
    sign_out(page)
    assert path_of(page.url) == "/signin?done=signed_out"


def test_a_teacher_evaluates_an_assessed_programme_and_sees_its_hours(page: Page, site: Site) -> None:
    define(site.service, "K1")  # held in March 2024 (3 days, 24 h): recorded now, with reasons
    site.service.enrol(ADMIN, "K1", "A001", occurred_on=date(2024, 3, 1), late_reason="纸质报名表补录")
    site.service.assess(ADMIN, "K1", "A001", 4, 4, AssessmentResult.GOOD, occurred_on=date(2024, 3, 6),
                        late_reason="考核表补录")
    site.service.award_credit(ADMIN, "K1", "A001", Decimal(24), occurred_on=date(2024, 3, 7), late_reason="学时补录")
    sign_in(page, "a001")
    assert path_of(page.url) == "/me"
    expect(page.locator("main")).to_contain_text("待评价")  # the gating rule: no hours shown before evaluating
    with page.expect_navigation():
        page.get_by_role("link", name="去评价").first.click()
    assert path_of(page.url) == "/me/evaluations/K1"
    for legend in ("培训形式", "授课教师", "组织管理"):
        page.locator("fieldset", has_text=legend).get_by_label("满意", exact=True).check()
    with page.expect_navigation() as sent:
        page.get_by_role("button", name="提交评价").click()
    assert sent.value is not None
    assert (sent.value.status, path_of(page.url)) == (200, "/me?done=evaluated")
    expect(page.get_by_role("status")).to_have_text("评价已提交，谢谢。")
    expect(page.locator("tr", has_text="培训项目K1")).to_contain_text("24")
    assert site.service.transcript(ADMIN, "A001")["pending_evaluation"] == []
    sign_out(page)
    assert path_of(page.url) == "/signin?done=signed_out"


def test_a_teacher_opens_a_dispute_with_a_scanned_sheet_as_evidence(page: Page, site: Site, tmp_path: Path) -> None:
    define(site.service, "K1")  # held in March 2024: recorded now, with a reason
    site.service.enrol(ADMIN, "K1", "A001", occurred_on=date(2024, 3, 1), late_reason="纸质报名表补录")
    scan = tmp_path / "签到表.pdf"
    scan.write_bytes(b"%PDF-1.4\n% the sign-in sheet of 2024-03-05\n%%EOF\n")
    sign_in(page, "a001")
    with page.expect_navigation():
        page.get_by_role("navigation").get_by_role("link", name="我的申诉").click()
    assert path_of(page.url) == "/me/disputes"
    with page.expect_navigation():
        page.get_by_role("link", name="提出申诉").click()
    assert path_of(page.url) == "/disputes/new"
    page.get_by_label("培训项目").select_option("K1")
    page.get_by_label("申诉内容").fill("3月5日的签到漏记了，附签到表")
    page.locator('input[type="file"][name="evidence"]').set_input_files(str(scan))
    with page.expect_navigation() as sent:
        page.get_by_role("button", name="提交申诉").click()
    assert sent.value is not None
    assert (sent.value.status, path_of(page.url)) == (200, "/me/disputes?done=dispute_opened")
    expect(page.get_by_role("status")).to_have_text("申诉已提交。")
    opened = site.service.list_disputes(ADMIN, status="open")["items"]
    assert [d["teacher_no"] for d in opened] == ["A001"]
    cited = site.service.teacher_history(ADMIN, "A001")[-1]["data"]["evidence"]
    assert cited == [{"name": "签到表.pdf", "sha256": hashlib.sha256(scan.read_bytes()).hexdigest()}]
    sign_out(page)
    assert path_of(page.url) == "/signin?done=signed_out"


def test_a_supervisor_resolves_a_dispute_at_the_desk(page: Page, site: Site) -> None:
    define(site.service, "K1")  # held in March 2024: recorded now as late entries, with their reasons
    site.service.enrol(ADMIN, "K1", "A001", occurred_on=date(2024, 3, 1), late_reason="纸质报名表补录")
    opened = site.service.open_dispute(ADMIN, "A001", "K1", "第二天的签到漏记了", [])
    dispute_id = opened.body["dispute_id"]
    sign_in(page, "county")
    with page.expect_navigation():
        page.get_by_role("navigation").get_by_role("link", name="申诉处理").click()
    assert path_of(page.url) == "/disputes"
    row = page.locator("tr", has_text=dispute_id)
    expect(row).to_contain_text("张伟")
    with page.expect_navigation():
        row.get_by_role("link", name=dispute_id).click()
    assert path_of(page.url) == f"/disputes/{dispute_id}"
    expect(page.locator("main")).to_contain_text("第二天的签到漏记了")
    page.get_by_label("驳回申诉").check()
    page.get_by_label("理由（必填）").fill("签到表核对无误")
    with page.expect_navigation() as sent:
        page.get_by_role("button", name="提交处理结果").click()
    assert sent.value is not None
    assert sent.value.status == 200
    assert path_of(page.url).endswith("done=resolved")
    expect(page.get_by_role("status")).to_have_text("申诉已处理。")
    resolved = site.service.list_disputes(ADMIN, status="resolved")["items"]
    assert [d["dispute_id"] for d in resolved] == [dispute_id]
    sign_out(page)
    assert path_of(page.url) == "/signin?done=signed_out"


@pytest.mark.parametrize("username", list(HOMES))
def test_each_roles_home_page_at_desktop_and_phone_widths(page: Page, phone: Page, username: str) -> None:
    """Each role's home page as it looks, written to var/screenshots/ (ROLE-USERNAME-WIDTH.png); a phone
    never scrolls the page sideways (wide tables scroll inside their card) nor folds the menu's items."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    role = ACCOUNTS[username][0].value
    for width, browser in (("desktop", page), ("phone", phone)):
        landed = sign_in(browser, username)
        assert landed is not None
        home = HOMES[username]
        assert path_of(browser.url) == home, width
        assert landed.status == 200, (width, landed.status)
        browser.screenshot(path=SCREENSHOTS / f"{role}-{username}-{width}.png", full_page=True)
        wide = browser.evaluate("() => document.documentElement.scrollWidth")
        assert browser.viewport_size is not None
        assert wide <= browser.viewport_size["width"], (width, wide)
        squeezed = browser.locator("header nav a").evaluate_all(
            "links => links.filter(a => a.offsetHeight > a.offsetWidth).map(a => a.textContent)")
        assert squeezed == [], (width, squeezed)  # a menu item on one line, not a character a line
