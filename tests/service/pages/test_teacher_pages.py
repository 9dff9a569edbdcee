"""A teacher's pages: the transcript (a programme not yet evaluated shows as 待评价, its hours
hidden), the catalogue and self-enrolment, the evaluation form, and opening a dispute with evidence
files uploaded in the same form; on every backend."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from domain.vocabulary import AssessmentResult, Selection
from service.app import TrainRec
from service.signing.keys import KeyRing
from tests.conftest import ADMIN, PROVIDER, Backend, Clock, build_county, define, teacher_actor
from tests.service.credentials import independent
from tests.service.pages.conftest import ACCOUNTS, PASSWORD, csrf_of, sign_in

PDF = b"%PDF-1.4\n% a certificate\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def _finish(service: TrainRec, clock: Clock, code: str, ends_on: date) -> None:
    """Attendance at every session, a pass and 24 hours for A001 (the programme ran three days)."""
    clock.set(ends_on, hour=18)
    for no in (1, 2, 3):
        service.record_attendance(PROVIDER, code, no, ["A001"], [])
    service.assess(PROVIDER, code, "A001", 4, 4, AssessmentResult.PASS)
    service.award_credit(PROVIDER, code, "A001", Decimal(24))


@pytest.fixture
def county(backend: Backend, clock: Clock) -> Iterator[TrainRec]:
    """The pages' county, where A001 (张伟, 城关第一小学) took K1 (credited, evaluated) and K2
    (credited, not yet evaluated) in spring 2024, and programmes open today: OPEN1, OPEN2 (2 seats)
    to choose, MAND (指派: not in the catalogue)."""
    service = TrainRec(backend.fresh(), clock=clock)
    build_county(service)
    for username, (role, org, teacher_no) in ACCOUNTS.items():
        service.add_account(ADMIN, username, role, org, teacher_no, PASSWORD)
    define(service, "K1", starts_on=date(2024, 3, 4))
    define(service, "K2", starts_on=date(2024, 3, 11))
    service.enrol(ADMIN, "K1", "A001")
    service.enrol(ADMIN, "K2", "A001")
    _finish(service, clock, "K1", date(2024, 3, 6))
    service.evaluate(teacher_actor("A001"), "K1", "A001", 5, 4, 4, None)
    _finish(service, clock, "K2", date(2024, 3, 13))
    clock.now = datetime.now(UTC)  # the session cookie is checked against the real time
    soon = service.policy.local_date(clock.now) + timedelta(days=30)
    define(service, "OPEN1", starts_on=soon)
    define(service, "OPEN2", starts_on=soon, capacity=2)
    define(service, "MAND", starts_on=soon, selection=Selection.MANDATED)
    yield service
    service.close()


def _teacher(browser: TestClient) -> None:
    assert sign_in(browser, "a001") == "/"
    assert browser.get("/").headers["location"] == "/me"


def _as_a_browser_sends(fields: dict[str, str], files: list[tuple[str, bytes, str]]
                        ) -> tuple[bytes, dict[str, str]]:
    """A multipart body as a browser builds it: a file input left empty is a part with `filename=""`."""
    boundary = "trainrec-form-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    for filename, content, media_type in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; filename="{filename}"\r\n'
                     f"Content-Type: {media_type}\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"content-type": f"multipart/form-data; boundary={boundary}"}


def _rows(html: str, label: str) -> list[str]:
    return re.findall(rf'data-label="{label}">(.*?)</td>', html)


def test_the_transcript_shows_credits_and_keeps_an_unevaluated_programme_pending(browser: TestClient) -> None:
    _teacher(browser)
    page = browser.get("/me")
    assert page.status_code == 200, page.text
    text = page.text
    assert "张伟" in text
    assert "城关第一小学" in text
    assert _rows(text, "培训项目") == ["培训项目K1", "培训项目K2"]
    assert _rows(text, "级别")[0] == "县级"
    assert _rows(text, "形式")[0] == "集中培训"
    assert _rows(text, "学时") == ["24", "评价后显示考核结果和学时"]  # K2's hours wait for its evaluation
    assert _rows(text, "认定日期")[0] == "2024-03-06"
    assert _rows(text, "认定人")[0] == "p1（培训机构）"
    assert "有效" in text
    assert text.count('href="/me/evaluations/K2"') == 2  # in 待评价 and on its line
    assert "/me/evaluations/K1" not in text  # evaluated
    assert _rows(text, "总学时") == ["24"]  # 2024: K1 only, as the trainee sees it
    assert _rows(text, "年度") == ["2024"]
    assert 'class="cycle-hours">0</span> / 360 学时' in text  # 2024 lies before this cycle
    assert 'href="/me" class="here"' in text


def test_evaluating_through_the_form_shows_the_hours(browser: TestClient, county: TrainRec) -> None:
    _teacher(browser)
    form = browser.get("/me/evaluations/K2")
    assert form.status_code == 200
    assert "培训项目K2" in form.text
    for word in ("很不满意", "不满意", "一般", "满意", "很满意", "培训形式", "授课教师", "组织管理"):
        assert word in form.text
    assert form.text.count('type="radio"') == 15
    sent = browser.post("/me/evaluations/K2", data={"csrf_token": csrf_of(form.text), "form": "5",
                                                    "instructors": "4", "management": "3", "comment": "很实用"})
    assert sent.status_code == 303
    assert sent.headers["location"] == "/me?done=evaluated"
    page = browser.get(sent.headers["location"])
    assert "评价已提交，谢谢。" in page.text
    assert _rows(page.text, "学时") == ["24", "24"]
    assert _rows(page.text, "总学时") == ["48"]
    assert "待评价" not in page.text
    evaluated = [e for e in county.teacher_history(ADMIN, "A001") if e["type"] == "Evaluated"]
    assert [(e["data"]["programme_code"], e["data"]["form"], e["data"]["instructors"], e["data"]["management"],
             e["data"]["comment"]) for e in evaluated] == [("K1", 5, 4, 4, None), ("K2", 5, 4, 3, "很实用")]
    again = browser.post("/me/evaluations/K2", data={"csrf_token": csrf_of(form.text), "form": "5",
                                                     "instructors": "4", "management": "3"})
    assert again.headers["location"] == "/me/evaluations/K2?error=already_evaluated"
    shown = browser.get(again.headers["location"])
    assert "该学员已评价该项目" in shown.text
    assert "您已评价该项目" in shown.text


def test_a_score_outside_one_to_five_is_refused_on_the_form(browser: TestClient) -> None:
    _teacher(browser)
    form = browser.get("/me/evaluations/K2")
    sent = browser.post("/me/evaluations/K2", data={"csrf_token": csrf_of(form.text), "form": "6",
                                                    "instructors": "4", "management": "3"})
    assert sent.headers["location"] == "/me/evaluations/K2?error=invalid_score"
    assert "评分须为 1–5 的整数" in browser.get(sent.headers["location"]).text


def test_the_catalogue_lists_what_one_may_choose_and_enrols_after_the_evaluation(browser: TestClient,
                                                                                county: TrainRec) -> None:
    _teacher(browser)
    page = browser.get("/catalogue")
    assert page.status_code == 200
    assert _rows(page.text, "培训项目") == ['培训项目OPEN1 <span class="muted">OPEN1</span>',
                                           '培训项目OPEN2 <span class="muted">OPEN2</span>']
    assert _rows(page.text, "名额") == ["不限", "剩余 2 / 2"]
    assert _rows(page.text, "培训机构") == ["县教师进修学校", "县教师进修学校"]
    assert "MAND" not in page.text
    found = browser.get("/catalogue", params={"q": "OPEN2"})
    assert "培训项目OPEN2" in found.text
    assert "培训项目OPEN1" not in found.text
    token = csrf_of(page.text)
    refused = browser.post("/catalogue/OPEN1/enrol", data={"csrf_token": token})
    assert refused.headers["location"] == "/catalogue?error=evaluation_pending"  # K2 of an earlier term
    assert "须先评价此前参加的培训项目" in browser.get(refused.headers["location"]).text
    county.evaluate(teacher_actor("A001"), "K2", "A001", 4, 4, 4, None)
    enrolled = browser.post("/catalogue/OPEN2/enrol", data={"csrf_token": token})
    assert enrolled.headers["location"] == "/catalogue?done=enrolled"
    after = browser.get(enrolled.headers["location"])
    assert "已报名。" in after.text
    assert "培训项目OPEN2" not in after.text  # enrolled: no longer to choose
    assert "培训项目OPEN1" in after.text
    assert [p["seats_taken"] for p in county.list_programmes(ADMIN, q="OPEN2")["items"]] == [1]


def test_opening_a_dispute_keeps_the_evidence_files_and_cites_them(browser: TestClient, county: TrainRec) -> None:
    _teacher(browser)
    form = browser.get("/disputes/new")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    assert re.findall(r'<option value="([^"]+)"', form.text) == ["K1", "K2"]
    sent = browser.post("/disputes/new", data={"csrf_token": csrf_of(form.text), "programme_code": "K1",
                                               "claim": "实际参加了四天，应认定32学时"},
                        files=[("evidence", ("结业证书.pdf", PDF, "application/pdf")),
                               ("evidence", ("签到表.png", PNG, "image/png"))])
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == "/me/disputes?done=dispute_opened"
    listed = browser.get(sent.headers["location"])
    assert "申诉已提交。" in listed.text
    assert _rows(listed.text, "培训项目") == ["培训项目K1"]
    assert _rows(listed.text, "申诉内容") == ["实际参加了四天，应认定32学时"]
    assert "待处理" in listed.text
    assert 'href="/me/disputes" class="here"' in listed.text
    assert 'href="/me" class="here"' not in listed.text
    opened = [e for e in county.teacher_history(ADMIN, "A001") if e["type"] == "DisputeOpened"]
    assert [e["data"]["evidence"] for e in opened] == [[
        {"name": "结业证书.pdf", "sha256": hashlib.sha256(PDF).hexdigest()},
        {"name": "签到表.png", "sha256": hashlib.sha256(PNG).hexdigest()},
    ]]
    kept = county.evidence_file(ADMIN, hashlib.sha256(PNG).hexdigest())
    assert (kept.media_type, kept.content) == ("image/png", PNG)
    home = browser.get("/me")
    assert "没有未处理的申诉" not in home.text
    assert "培训项目K1 · 提出于" in home.text


def test_a_dispute_without_files_and_the_refusals_of_its_form(browser: TestClient) -> None:
    _teacher(browser)
    token = csrf_of(browser.get("/disputes/new").text)
    body, headers = _as_a_browser_sends({"csrf_token": token, "programme_code": "K2", "claim": "学时有误"},
                                        [("", b"", "application/octet-stream")])  # no file chosen
    plain = browser.post("/disputes/new", content=body, headers=headers)
    assert plain.headers["location"] == "/me/disputes?done=dispute_opened"
    again = browser.post("/disputes/new", data={"csrf_token": token, "programme_code": "K2", "claim": "再次申诉"},
                         files=[("evidence", ("", b"", "application/octet-stream"))])
    assert again.status_code == 409
    assert "该项目已有未处理的申诉" in again.text
    assert "再次申诉</textarea>" in again.text  # the claim as written
    wrong = browser.post("/disputes/new", data={"csrf_token": token, "programme_code": "K1", "claim": "见附件"},
                         files=[("evidence", ("note.txt", b"just words", "text/plain"))])
    assert wrong.status_code == 415
    assert "证明材料只接受 PDF、PNG、JPEG、DOCX 或 XLSX" in wrong.text
    empty = browser.post("/disputes/new", data={"csrf_token": token, "programme_code": "K1", "claim": "  "},
                         files=[("evidence", ("", b"", "application/octet-stream"))])
    assert empty.status_code == 422
    assert "申诉内容不能为空" in empty.text
    elsewhere = browser.post("/disputes/new", data={"csrf_token": token, "programme_code": "MAND", "claim": "x"},
                             files=[("evidence", ("", b"", "application/octet-stream"))])
    assert elsewhere.status_code == 409
    assert "该教师未报名该项目" in elsewhere.text
    assert _rows(browser.get("/me/disputes").text, "培训项目") == ["培训项目K2"]


def test_forms_without_their_csrf_token_are_refused(browser: TestClient, county: TrainRec) -> None:
    _teacher(browser)
    assert browser.post("/catalogue/OPEN1/enrol", data={}).status_code == 403
    assert browser.post("/me/evaluations/K2", data={"form": "5", "instructors": "5",
                                                    "management": "5"}).status_code == 403
    refused = browser.post("/disputes/new", data={"programme_code": "K1", "claim": "x"},
                           files=[("evidence", ("a.pdf", PDF, "application/pdf"))])
    assert refused.status_code == 403
    assert "表单校验失败" in refused.text
    assert county.list_disputes(ADMIN)["items"] == []
    assert [e for e in county.teacher_history(ADMIN, "A001") if e["type"] == "Evaluated"][-1]["data"][
        "programme_code"] == "K1"


def test_only_a_teacher_has_these_pages_and_only_for_their_own_programmes(browser: TestClient) -> None:
    sign_in(browser, "s1")
    for path in ("/me", "/catalogue", "/me/disputes", "/disputes/new", "/me/evaluations/K1"):
        refused = browser.get(path)
        assert refused.status_code == 403, path
        assert "超出您的权限范围" in refused.text
    browser.cookies.clear()
    _teacher(browser)
    missing = browser.get("/me/evaluations/OPEN1")
    assert missing.status_code == 409
    assert "该教师未报名该项目" in missing.text


def test_a_page_asked_without_signing_in_goes_to_the_sign_in_page(browser: TestClient) -> None:
    answer = browser.get("/me/disputes")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/me/disputes"


def test_the_teachers_page_links_their_signed_credential(
        browser: TestClient, county: TrainRec, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """下载电子证书: the link on /me downloads the credential with the session's cookie; it verifies
    against the published key and holds the hours the teacher sees (K1's 24; K2 awaits evaluation)."""
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path))
    KeyRing.open(tmp_path).rotate("credential", clock.now - timedelta(minutes=1))  # the clock stands still
    _teacher(browser)
    page = browser.get("/me")
    link = re.search(r'<a class="button secondary" href="([^"]+)" download>下载电子证书</a>', page.text)
    assert link is not None, page.text
    assert link[1] == "/api/v1/teachers/A001/credential"
    answer = browser.get(link[1])
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vc+jwt")
    assert "credential-A001.jwt" in answer.headers["content-disposition"]
    keys = browser.get("/.well-known/trainrec-keys.json").json()
    header, payload = independent.verify(answer.text, independent.public_key_of(keys, independent.header_of(
        answer.text)["kid"]))
    assert header["alg"] == "EdDSA"
    lines = payload["credentialSubject"]["verifiableCredential"]
    assert [(line["credentialSubject"]["achievement"]["humanCode"], line["credentialSubject"]["creditsEarned"])
            for line in lines] == [("K1", 24)]
