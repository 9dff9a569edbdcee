"""The auditor's pages (a teacher's history, the transcript as of a date, the audit feed and the
store's verification) and the disputes desk, on every backend.

A001 (张伟, S1) was enrolled in K1 and assessed thirty days ago, both entered late; ten days ago
20 of K1's 24 hours were credited (late too) and S1's admin opened a dispute for the rest, citing
a kept PDF. Nothing else happened to A001."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from domain.rules.late_entry import SHANGHAI
from domain.vocabulary import AssessmentResult, Role
from service.app import TrainRec
from service.pages import routes_audit
from service.queries.verify import Broken, Verification
from tests.conftest import ADMIN, SCHOOL_ADMIN, Backend, build_county, define
from tests.service.pages.conftest import ACCOUNTS, PASSWORD, csrf_of, sign_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PDF_SHA = hashlib.sha256(PDF).hexdigest()
CLAIM = "实际参加了全部课时，应认定24学时"


class Shifted:
    """The service's clock: now, moved back by `shift` (so that records can be made in the past)."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


@pytest.fixture
def county(backend: Backend) -> Iterator[TrainRec]:
    clock = Shifted()
    clock.shift = -timedelta(days=30)
    service = TrainRec(backend.fresh(), clock=clock)
    build_county(service)
    for username, (role, org, teacher_no) in ACCOUNTS.items():
        service.add_account(ADMIN, username, role, org, teacher_no, PASSWORD)
    define(service, "K1")  # 2024-03-04 to 06, 24 hours
    service.enrol(ADMIN, "K1", "A001", occurred_on=date(2024, 3, 1), late_reason="纸质报名表补录")
    service.assess(ADMIN, "K1", "A001", 4, 4, AssessmentResult.GOOD, occurred_on=date(2024, 3, 6),
                   late_reason="考核表补录")
    clock.shift = -timedelta(days=10)
    service.award_credit(ADMIN, "K1", "A001", Decimal(20), occurred_on=date(2024, 3, 7), late_reason="学时补录")
    service.keep_evidence(SCHOOL_ADMIN, "签到表.pdf", PDF, PDF_SHA)
    service.open_dispute(SCHOOL_ADMIN, "A001", "K1", CLAIM, [{"name": "签到表.pdf", "sha256": PDF_SHA}])
    clock.shift = timedelta(0)
    yield service
    service.close()


def today() -> date:
    return datetime.now(SHANGHAI).date()


def rows(html: str) -> int:
    return html.count('href="/teachers/A001/history"')


# --- history ---------------------------------------------------------------------------------------
def test_the_history_is_a_timeline_with_both_times_and_the_late_entries_marked(browser: TestClient) -> None:
    sign_in(browser, "audit")
    page = browser.get("/teachers/A001/history")
    assert page.status_code == 200, page.text
    text = page.text
    assert "张伟" in text
    assert "城关第一小学" in text
    assert '<ul class="timeline">' in text
    assert len(re.findall(r"<li[ >]", text)) == 5  # registered, enrolled, assessed, credited, disputed
    assert text.count('<li class="late">') == 3
    assert "其中补录 3 条" in text
    for words in ("登记", "报名", "考核", "学时认定", "提出申诉"):
        assert f"<strong>{words}</strong>" in text
    assert "发生日期 2024-03-01" in text
    assert "补录原因：纸质报名表补录" in text
    assert "报名 K1《培训项目K1》，24 学时" in text
    assert "K1：良好（学习态度 4 分，作业 4 分" in text
    assert "K1《培训项目K1》 认定 20 学时（2024 年度）" in text
    assert CLAIM in text
    assert "操作人 admin · 系统管理员" in text
    assert "操作人 s1-admin · 学校培训管理员" in text
    # newest first: the dispute before the registration
    assert text.index("提出申诉") < text.index("<strong>登记</strong>")
    assert re.search(r"记录时间 \d{4}-\d\d-\d\d \d\d:\d\d", text)


def test_the_history_is_refused_outside_the_callers_scope(browser: TestClient) -> None:
    sign_in(browser, "s1")
    assert browser.get("/teachers/A001/history").status_code == 200
    refused = browser.get("/teachers/C001/history")
    assert refused.status_code == 403
    assert "超出您的权限范围" in refused.text
    browser.cookies.clear()
    sign_in(browser, "p1")
    assert browser.get("/teachers/A001/history").status_code == 403


# --- transcript as of a date -------------------------------------------------------------------------
def test_the_transcript_as_it_stood_at_a_chosen_date(browser: TestClient) -> None:
    sign_in(browser, "audit")
    now = browser.get("/teachers/A001/transcript")
    assert now.status_code == 200, now.text
    assert "张伟" in now.text
    assert "学校 城关第一小学" in now.text
    assert 'type="date" name="as_of"' in now.text
    assert "K1 培训项目K1" in now.text
    assert '<td class="num" data-label="学时">20</td>' in now.text
    assert "有效" in now.text
    before = (today() - timedelta(days=20)).isoformat()  # after the enrolment, before the credit
    then = browser.get("/teachers/A001/transcript", params={"as_of": before})
    assert then.status_code == 200, then.text
    assert f"截至 {before}" in then.text
    assert "没有培训学时。" in then.text
    assert "K1 培训项目K1" not in then.text
    later = browser.get("/teachers/A001/transcript", params={"as_of": (today() - timedelta(days=5)).isoformat()})
    assert '<td class="num" data-label="学时">20</td>' in later.text
    wrong = browser.get("/teachers/A001/transcript", params={"as_of": "2024-13-01"})
    assert wrong.status_code == 422
    assert "时间无效" in wrong.text


def test_the_transcript_is_refused_outside_the_callers_scope(browser: TestClient) -> None:
    sign_in(browser, "a001")
    assert browser.get("/teachers/A001/transcript").status_code == 200
    assert browser.get("/teachers/A002/transcript").status_code == 403


# --- the audit feed ----------------------------------------------------------------------------------
def test_the_audit_feed_filters_by_teacher_type_late_entry_and_dates(browser: TestClient) -> None:
    sign_in(browser, "audit")
    everything = browser.get("/audit")
    assert everything.status_code == 200, everything.text
    assert '<option value="CreditAwarded">学时认定</option>' in everything.text
    assert "示范县" in everything.text  # the county's registration
    assert rows(browser.get("/audit", params={"teacher_no": "A001"}).text) == 5
    late = browser.get("/audit", params={"teacher_no": "A001", "late_entry": "1"}).text
    assert rows(late) == 3
    assert "补录原因：学时补录" in late
    credited = browser.get("/audit", params={"teacher_no": "A001", "type": "CreditAwarded"}).text
    assert rows(credited) == 1
    assert '<option value="CreditAwarded" selected>' in credited
    assert "认定 20 学时" in credited
    by_admin_of_s1 = browser.get("/audit", params={"actor": "s1-admin"}).text
    assert rows(by_admin_of_s1) == 1
    assert CLAIM in by_admin_of_s1
    until = (today() - timedelta(days=20)).isoformat()
    assert rows(browser.get("/audit", params={"teacher_no": "A001", "until": until}).text) == 3
    since = browser.get("/audit", params={"teacher_no": "A001", "since": today().isoformat()}).text
    assert "没有符合条件的记录。" in since
    assert browser.get("/audit", params={"since": "not a day"}).status_code == 422


def test_the_audit_feed_pages_with_its_cursor(browser: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes_audit, "PAGE", 2)
    sign_in(browser, "audit")
    seen = []
    url = "/audit?teacher_no=A001"
    for _ in range(3):
        page = browser.get(url)
        assert page.status_code == 200
        seen.append(rows(page.text))
        more = re.search(r'href="(/audit\?[^"]*after=[^"]*)"', page.text)
        if more is None:
            break
        assert "teacher_no=A001" in more[1]
        url = more[1].replace("&amp;", "&")
    assert seen == [2, 2, 1]


def test_verification_shows_the_count_checked_and_needs_the_csrf_token(browser: TestClient, county: TrainRec
                                                                      ) -> None:
    sign_in(browser, "audit")
    feed = browser.get("/audit")
    assert "从头完整校验" in feed.text
    assert browser.post("/audit/verify", data={}).status_code == 403
    head = county.recorder.max_notification_id()
    checked = browser.post("/audit/verify", data={"csrf_token": csrf_of(feed.text), "full": "1"})
    assert checked.status_code == 200, checked.text
    assert f"校验通过：已核对 {head} 个事件" in checked.text


def test_a_broken_chain_names_its_first_broken_event(browser: TestClient, county: TrainRec,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    broken = Broken("ev-1", "oid", 3, 42, "content does not match its chain hash")
    monkeypatch.setattr(county, "verify", lambda actor, full=False: Verification(False, 41, broken, 0, 42, True))
    sign_in(browser, "audit")
    token = csrf_of(browser.get("/audit").text)
    answer = browser.post("/audit/verify", data={"csrf_token": token})
    assert "校验未通过：已核对 41 个事件" in answer.text
    assert "事件 ev-1（记录序号 42，第 3 版）" in answer.text
    assert "内容与其链哈希不符" in answer.text


def test_the_feed_and_its_verification_stay_within_scope(browser: TestClient) -> None:
    sign_in(browser, "county")
    feed = browser.get("/audit")
    assert feed.status_code == 200  # a supervisor reads its subtree's feed, without the 校验 form
    assert 'action="/audit/verify"' not in feed.text
    assert browser.post("/audit/verify", data={"csrf_token": csrf_of(feed.text)}).status_code == 403
    browser.cookies.clear()
    sign_in(browser, "a001")
    assert browser.get("/audit").status_code == 403


# --- the disputes desk ---------------------------------------------------------------------------------
def _dispute_id(browser: TestClient) -> str:
    desk = browser.get("/disputes")
    assert desk.status_code == 200, desk.text
    found = re.search(r'href="/disputes/(D-[0-9a-f]+)"', desk.text)
    assert found is not None
    return found[1]


def test_the_desk_lists_the_open_disputes_with_names(browser: TestClient) -> None:
    sign_in(browser, "county")
    desk = browser.get("/disputes")
    assert desk.status_code == 200
    for words in ("张伟", "城关第一小学", "K1 培训项目K1", CLAIM, "待处理"):
        assert words in desk.text
    assert "没有申诉。" in browser.get("/disputes", params={"status": "resolved"}).text


def test_a_dispute_shows_its_evidence_and_the_teachers_record(browser: TestClient) -> None:
    sign_in(browser, "county")
    page = browser.get(f"/disputes/{_dispute_id(browser)}")
    assert page.status_code == 200, page.text
    text = page.text
    assert CLAIM in text
    assert "工号 A001 · 学校 城关第一小学" in text
    assert f'<a href="/api/v1/evidence/{PDF_SHA}">签到表.pdf</a>' in text
    assert "项目：K1《培训项目K1》，24 学时" in text
    assert "K1 培训项目K1：20 学时（2024 年度，2024-03-07 认定）" in text
    for words in ("<strong>报名</strong>", "<strong>考核</strong>", "<strong>学时认定</strong>"):
        assert words in text
    assert 'action="/disputes/' in text  # the resolution form
    evidence = browser.get(f"/api/v1/evidence/{PDF_SHA}")  # the link works with the cookie
    assert (evidence.status_code, evidence.content) == (200, PDF)


def test_resolving_a_dispute_awards_the_hours_and_says_so(browser: TestClient) -> None:
    sign_in(browser, "county")
    dispute_id = _dispute_id(browser)
    page = browser.get(f"/disputes/{dispute_id}")
    token = csrf_of(page.text)
    url = f"/disputes/{dispute_id}/resolution"
    refused = browser.post(url, data={"decision": "upheld", "reason": "签到表证明全勤", "award_hours": "24"})
    assert refused.status_code == 403
    blank = browser.post(url, data={"csrf_token": token, "decision": "upheld", "reason": " ", "award_hours": "24"})
    assert (blank.status_code, blank.headers["location"]) == (303, f"/disputes/{dispute_id}?error=reason_required")
    assert "须填写理由" in browser.get(blank.headers["location"]).text
    mixed = browser.post(url, data={"csrf_token": token, "decision": "rejected", "reason": "不予支持",
                                    "award_hours": "24"})
    assert mixed.headers["location"] == f"/disputes/{dispute_id}?error=award_needs_upheld"
    done = browser.post(url, data={"csrf_token": token, "decision": "upheld", "reason": "签到表证明全勤",
                                   "award_hours": "24"})
    assert (done.status_code, done.headers["location"]) == (303, f"/disputes/{dispute_id}?done=resolved")
    resolved = browser.get(done.headers["location"]).text
    assert "申诉已处理。" in resolved
    assert "<strong>支持</strong>，认定 24 学时" in resolved
    assert "理由：签到表证明全勤" in resolved
    assert "K1 培训项目K1：24 学时" in resolved
    assert "已撤销" in resolved  # the 20 hours replaced
    assert 'action="/disputes/' not in resolved
    assert "没有待处理的申诉。" in browser.get("/disputes").text
    assert dispute_id in browser.get("/disputes", params={"status": "resolved"}).text
    again = browser.post(url, data={"csrf_token": token, "decision": "rejected", "reason": "再次处理"})
    assert again.headers["location"] == f"/disputes/{dispute_id}?error=dispute_already_resolved"


def test_the_desk_keeps_to_the_callers_scope(browser: TestClient) -> None:
    sign_in(browser, "county")
    dispute_id = _dispute_id(browser)
    browser.cookies.clear()
    sign_in(browser, "s1")  # the school reads its teacher's dispute, but resolves nothing
    page = browser.get(f"/disputes/{dispute_id}")
    assert page.status_code == 200
    assert 'action="/disputes/' not in page.text
    refused = browser.post(f"/disputes/{dispute_id}/resolution",
                           data={"csrf_token": csrf_of(page.text), "decision": "rejected", "reason": "不予支持"})
    assert refused.status_code == 403
    assert "超出您的权限范围" in refused.text
    browser.cookies.clear()
    sign_in(browser, "p1")
    assert browser.get("/disputes").status_code == 403
    assert browser.get(f"/disputes/{dispute_id}").status_code == 403
    browser.cookies.clear()
    sign_in(browser, "a001")
    answer = browser.get("/disputes")
    assert (answer.status_code, answer.headers["location"]) == (303, "/me/disputes")


def test_an_unknown_dispute_is_refused_as_one_outside_the_scope(browser: TestClient, county: TrainRec) -> None:
    sign_in(browser, "county")
    assert browser.get("/disputes/D-0000000000000000").status_code == 403
    county.add_account(ADMIN, "root", Role.ADMIN, None, None, PASSWORD)
    browser.cookies.clear()
    sign_in(browser, "root")
    missing = browser.get("/disputes/D-0000000000000000")
    assert missing.status_code == 404
    assert "没有该申诉" in missing.text
