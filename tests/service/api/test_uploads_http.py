"""Uploads through HTTP: sheets imported with the command's row report (JSON, or a workbook read
back cell by cell), and evidence files kept by sha256 and read only within scope; every refusal."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient

from domain.vocabulary import AssessmentResult, Role
from service.api import routes_uploads
from service.api.main import create_app
from service.app import TrainRec
from service.commands import evidence as evidence_module
from service.importing.report_sheet import XLSX_MEDIA_TYPE
from tests.conftest import (
    ADMIN,
    AUDITOR,
    COUNTY_SUP,
    OTHER_SCHOOL_ADMIN,
    PROVIDER,
    SCHOOL_ADMIN,
    Backend,
    Clock,
    build_county,
    define,
    teacher_actor,
)
from tests.service.api.conftest import SECRET, bearer

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PDF_SHA = hashlib.sha256(PDF).hexdigest()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def workbook(rows: list[list[Any]], titles: tuple[str, ...] = ()) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for number, title in enumerate(titles, start=1):
        sheet.cell(row=number, column=1, value=title)
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=len(rows[0]))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def head(service: TrainRec) -> int:
    return service.recorder.max_notification_id() or 0


def upload(client: TestClient, path: str, actor: Any, name: str, content: bytes, **kwargs: Any) -> Any:
    return client.post(path, files={"file": (name, content, "application/octet-stream")}, headers={
        **bearer(actor), **kwargs.pop("headers", {})}, **kwargs)


STAFF_SHEET = workbook([
    ["序号", "工号", "姓名", "学校代码"],
    [1, "N001", "赵一", "S1"],   # row 3
    [2, "N002", "钱二", "S3"],   # row 4: another school's
    [3, "", "孙三", "S1"],       # row 5: no 工号
], titles=("城关第一小学 2024年新进教师名单",))


# --- sheets ------------------------------------------------------------------------------------------
def test_a_school_admin_imports_its_staff_and_each_row_outside_is_refused(
        client: TestClient, service: TrainRec) -> None:
    build_county(service)
    response = upload(client, "/api/v1/imports/teachers", SCHOOL_ADMIN, "新教师.xlsx", STAFF_SHEET)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("kind", "rows", "accepted", "replayed", "rejected", "events",
                                 "ignored_columns")} == {
        "kind": "teachers", "rows": 3, "accepted": 1, "replayed": 0, "rejected": 2, "events": 1,
        "ignored_columns": ["序号"]}
    assert body["file_sha256"] == hashlib.sha256(STAFF_SHEET).hexdigest()
    assert [(r["row"], r["accepted"], r.get("code"), r["teacher_no"], r["name"]) for r in body["results"]] == [
        (3, True, None, "", ""),
        (4, False, "forbidden_scope", "N002", "钱二"),
        (5, False, "missing_value", "", "孙三"),
    ]
    assert service.transcript(SCHOOL_ADMIN, "N001")["teacher_no"] == "N001"

    # the same file again: every row answered as before, nothing recorded twice
    before = head(service)
    again = upload(client, "/api/v1/imports/teachers", SCHOOL_ADMIN, "新教师.xlsx", STAFF_SHEET).json()
    assert (again["accepted"], again["replayed"], again["rejected"], again["events"]) == (1, 1, 2, 0)
    assert head(service) == before


@pytest.mark.parametrize("how", ["query", "accept"])
def test_the_report_downloads_as_a_workbook(client: TestClient, service: TrainRec, how: str) -> None:
    build_county(service)
    if how == "query":
        response = upload(client, "/api/v1/imports/teachers", SCHOOL_ADMIN, "新教师.xlsx", STAFF_SHEET,
                          params={"format": "xlsx"})
    else:
        response = upload(client, "/api/v1/imports/teachers", SCHOOL_ADMIN, "新教师.xlsx", STAFF_SHEET,
                          headers={"Accept": XLSX_MEDIA_TYPE})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_MEDIA_TYPE
    assert response.headers["content-disposition"].startswith('attachment; filename="import-report.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["导入结果"]
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["行号", "结果", "工号", "姓名", "代码", "原因", "详情"],
        [3, "已导入", None, None, None, None, None],
        [4, "拒绝", "N002", "钱二", "forbidden_scope", "超出您的权限范围", "not allowed to act for staff of S3"],
        [5, "拒绝", None, "孙三", "missing_value", "必填项为空", "工号 (teacher_no) is empty"],
        [None, None, None, None, None, None, None],
        ["行数", 3, None, None, None, None, None],
        ["已导入", 1, None, None, None, None, None],
        ["拒绝", 2, None, None, None, None, None],
        ["记录事件", 1, None, None, None, None, None],
    ]


def test_a_name_that_looks_like_a_formula_stays_text_in_the_report(client: TestClient, service: TrainRec) -> None:
    build_county(service)
    sheet = "工号,姓名,学校代码\nN009,=HYPERLINK(\"http://x\"),S9\n".encode()
    response = upload(client, "/api/v1/imports/teachers", ADMIN, "t.csv", sheet, params={"format": "xlsx"})
    cell = openpyxl.load_workbook(io.BytesIO(response.content))["导入结果"]["D2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x")', "s")


def test_a_provider_marks_attendance_of_its_own_programmes_only(
        client: TestClient, service: TrainRec, clock: Clock) -> None:
    build_county(service)
    define(service, "K1")
    define(service, "K2", provider_id="P2")
    for code in ("K1", "K2"):
        service.enrol(ADMIN, code, "A001")
    service.enrol(ADMIN, "K1", "A002")
    clock.set(date(2024, 3, 4), hour=18)
    sheet = workbook([
        ["项目编号", "场次", "工号", "姓名", "出勤"],
        ["K1", 1, "A001", "张伟", "到"],     # row 3
        ["K1", 1, "A002", "王芳", "缺"],     # row 4
        ["K2", 1, "A001", "张伟", "√"],      # row 5: P2's programme
    ], titles=("签到表",))
    body = upload(client, "/api/v1/imports/attendance", PROVIDER, "签到.xlsx", sheet).json()
    assert [(r["row"], r["accepted"], r.get("code"), r["teacher_no"], r["name"]) for r in body["results"]] == [
        (3, True, None, "", ""), (4, True, None, "", ""), (5, False, "forbidden_scope", "A001", "张伟")]
    roster = {t["teacher_no"]: t for t in service.roster(PROVIDER, "K1")["enrolled"]}
    assert (roster["A001"]["sessions_present"], roster["A002"]["sessions_present"]) == (1, 0)


@pytest.mark.parametrize(("kind", "actor", "status", "code"), [
    ("staff", ADMIN, 404, "unknown_import_kind"),
    ("teachers", PROVIDER, 403, "forbidden_scope"),       # providers never register staff
    ("attendance", teacher_actor("A001"), 403, "forbidden_scope"),
    ("enrolments", AUDITOR, 403, "forbidden_scope"),      # auditors never write
    ("prior-hours", SCHOOL_ADMIN, 403, "forbidden_scope"),
])
def test_sheets_refused_whole(client: TestClient, service: TrainRec, kind: str, actor: Any, status: int,
                              code: str) -> None:
    build_county(service)
    before = head(service)
    response = upload(client, f"/api/v1/imports/{kind}", actor, "t.xlsx", STAFF_SHEET)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert head(service) == before


@pytest.mark.parametrize(("content", "code"), [
    (b"PK\x03\x04 not really a workbook", "unreadable_xlsx"),
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 60, "unsupported_file"),
    (b"\x80\xff\x80,\xff", "unreadable_text"),
    (b"\n\n\n", "no_header"),
    ("工号,教师编号,姓名,学校代码\nN1,N1,甲,S1\n".encode(), "duplicate_column"),
])
def test_unreadable_sheets_are_422_and_record_nothing(client: TestClient, service: TrainRec, content: bytes,
                                                      code: str) -> None:
    build_county(service)
    before = head(service)
    response = upload(client, "/api/v1/imports/teachers", ADMIN, "t.xlsx", content)
    assert (response.status_code, response.json()["code"]) == (422, code), response.text
    assert head(service) == before


def test_sheet_limits(client: TestClient, service: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    build_county(service)
    before = head(service)
    # over the body limit of the route: refused before it is read
    huge = b"x" * (routes_uploads.MAX_SHEET_BYTES + routes_uploads.MULTIPART_OVERHEAD + 1)
    response = upload(client, "/api/v1/imports/teachers", ADMIN, "t.csv", huge)
    assert (response.status_code, response.json()["code"]) == (413, "import_too_large")
    monkeypatch.setattr(routes_uploads, "MAX_SHEET_BYTES", 100)
    response = upload(client, "/api/v1/imports/teachers", ADMIN, "t.xlsx", STAFF_SHEET)
    assert (response.status_code, response.json()["code"]) == (413, "import_too_large")
    monkeypatch.setattr(routes_uploads, "MAX_SHEET_BYTES", 5 * 1024 * 1024)
    monkeypatch.setattr(routes_uploads, "MAX_SHEET_ROWS", 2)
    response = upload(client, "/api/v1/imports/teachers", ADMIN, "t.xlsx", STAFF_SHEET)
    assert (response.status_code, response.json()["code"]) == (422, "too_many_rows")
    assert head(service) == before  # not even the sheet's first rows


# --- evidence ------------------------------------------------------------------------------------------
def _disputed(service: TrainRec, clock: Clock, evidence: list[dict[str, str]]) -> None:
    """A001's dispute about K1 citing `evidence`."""
    define(service, "K1")
    service.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 6), hour=17)
    service.assess(ADMIN, "K1", "A001", 4, 4, AssessmentResult.GOOD)
    service.open_dispute(teacher_actor("A001"), "A001", "K1", "实际参加了全部课时", evidence)


def test_evidence_is_kept_by_sha256_and_read_within_scope(client: TestClient, service: TrainRec,
                                                         clock: Clock) -> None:
    build_county(service)
    teacher = teacher_actor("A001")
    response = client.post("/api/v1/evidence", files={"file": ("签到表.pdf", PDF, "application/pdf")},
                           data={"sha256": PDF_SHA.upper()}, headers=bearer(teacher))
    assert response.status_code == 201, response.text
    assert response.json() == {"sha256": PDF_SHA, "name": "签到表.pdf", "size": len(PDF),
                               "media_type": "application/pdf"}
    # the same bytes again, under another name: kept before, the first name stays
    again = upload(client, "/api/v1/evidence", SCHOOL_ADMIN, "copy.pdf", PDF)
    assert (again.status_code, again.json()["name"]) == (200, "copy.pdf")

    path = f"/api/v1/evidence/{PDF_SHA}"
    # before any record cites it: its uploaders only (and admins)
    assert client.get(path, headers=bearer(teacher)).status_code == 200
    assert client.get(path, headers=bearer(COUNTY_SUP)).json()["code"] == "forbidden_scope"

    _disputed(service, clock, [{"name": "签到表.pdf", "sha256": PDF_SHA}])
    for reader in (COUNTY_SUP, AUDITOR, ADMIN):
        read = client.get(path, headers=bearer(reader))
        assert read.status_code == 200, (reader, read.text)
        assert read.content == PDF
        assert read.headers["content-type"] == "application/pdf"
        assert read.headers["x-content-type-options"] == "nosniff"
        assert read.headers["content-disposition"] == (
            f"attachment; filename=\"evidence-{PDF_SHA[:12]}.pdf\"; filename*=UTF-8''%E7%AD%BE%E5%88%B0%E8%A1%A8.pdf")

    # outside: the same words whether or not anything is kept under the sha256
    unknown = "0" * 64
    for reader in (OTHER_SCHOOL_ADMIN, teacher_actor("A002"), PROVIDER):
        for sha in (PDF_SHA, unknown):
            refused = client.get(f"/api/v1/evidence/{sha}", headers=bearer(reader))
            assert refused.status_code == 403
            body = refused.json()
            assert body["code"] == "forbidden_scope"
            if reader.role is not Role.PROVIDER:
                assert body["detail"] == f"evidence {sha} is outside your scope"
    assert client.get(f"/api/v1/evidence/{unknown}", headers=bearer(ADMIN)).json()["code"] == "evidence_not_found"


def test_a_cited_file_never_uploaded_is_not_found_to_those_in_scope(client: TestClient, service: TrainRec,
                                                                    clock: Clock) -> None:
    build_county(service)
    named = "ab" * 32
    _disputed(service, clock, [{"name": "纸质签到表.pdf", "sha256": named}])  # named, not uploaded: accepted
    response = client.get(f"/api/v1/evidence/{named}", headers=bearer(COUNTY_SUP))
    assert (response.status_code, response.json()["code"]) == (404, "evidence_not_found")
    assert client.get("/api/v1/evidence/not-a-sha", headers=bearer(ADMIN)).json()["code"] == "evidence_not_found"


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


@pytest.mark.parametrize(("name", "content", "media_type"), [
    ("scan.png", PNG, "image/png"),
    ("photo.jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 16, "image/jpeg"),
    ("说明.docx", _docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("名单.xlsx", workbook([["工号"]]), XLSX_MEDIA_TYPE),
    ("no-extension", PDF, "application/pdf"),  # the bytes say what it is, not the name
])
def test_evidence_types_are_sniffed_from_the_bytes(client: TestClient, service: TrainRec, name: str,
                                                   content: bytes, media_type: str) -> None:
    response = upload(client, "/api/v1/evidence", ADMIN, name, content)
    assert response.status_code == 201, response.text
    assert response.json()["media_type"] == media_type


@pytest.mark.parametrize(("actor", "name", "content", "form", "status", "code"), [
    (ADMIN, "fake.pdf", b"<html><script>alert(1)</script>", {}, 415, "evidence_type_refused"),
    (ADMIN, "empty.pdf", b"", {}, 415, "evidence_type_refused"),
    (ADMIN, "zip.docx", b"PK\x03\x04broken", {}, 415, "evidence_type_refused"),
    (ADMIN, "a.pdf", PDF, {"sha256": "0" * 64}, 422, "evidence_mismatch"),
    (ADMIN, "a.pdf", PDF, {"sha256": "not a digest"}, 422, "evidence_mismatch"),
    (PROVIDER, "a.pdf", PDF, {}, 403, "forbidden_scope"),
    (AUDITOR, "a.pdf", PDF, {}, 403, "forbidden_scope"),
])
def test_evidence_refusals(client: TestClient, service: TrainRec, actor: Any, name: str, content: bytes,
                           form: dict[str, str], status: int, code: str) -> None:
    response = client.post("/api/v1/evidence", files={"file": (name, content, "application/pdf")}, data=form,
                           headers=bearer(actor))
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert service.evidence.get(hashlib.sha256(content).hexdigest()) is None


def test_evidence_size_limits(client: TestClient, service: TrainRec, monkeypatch: pytest.MonkeyPatch) -> None:
    huge = b"%PDF-" + b"x" * (evidence_module.MAX_EVIDENCE_BYTES + routes_uploads.MULTIPART_OVERHEAD)
    response = upload(client, "/api/v1/evidence", ADMIN, "big.pdf", huge)
    assert (response.status_code, response.json()["code"]) == (413, "evidence_too_large")
    monkeypatch.setattr(routes_uploads, "MAX_EVIDENCE_BYTES", 10)
    response = upload(client, "/api/v1/evidence", ADMIN, "a.pdf", PDF)
    assert (response.status_code, response.json()["code"]) == (413, "evidence_too_large")
    assert service.evidence.get(PDF_SHA) is None


def test_an_upload_form_sent_with_the_session_cookie_carries_its_csrf_token(backend: Backend) -> None:
    """A page's upload form (multipart) signed in by cookie: its csrf_token field beside the file (on
    the real clock: a session expires by it)."""
    service = TrainRec(backend.fresh())
    try:
        _cookie_uploads(service)
    finally:
        service.close()


def _cookie_uploads(service: TrainRec) -> None:
    build_county(service)
    service.add_account(ADMIN, "s1", Role.SCHOOL_ADMIN, "S1", None, "correct horse battery")
    http = TestClient(create_app(service, SECRET), raise_server_exceptions=False)
    signed_in = http.post("/api/v1/session", json={"username": "s1", "password": "correct horse battery"}).json()
    files = {"file": ("签到表.pdf", PDF, "application/pdf")}
    refused = http.post("/api/v1/evidence", files=files)
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
    wrong = http.post("/api/v1/evidence", files=files, data={"csrf_token": "0" * 64})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "csrf_failed")
    assert service.evidence.get(PDF_SHA) is None
    kept = http.post("/api/v1/evidence", files=files, data={"csrf_token": signed_in["csrf_token"]})
    assert (kept.status_code, kept.json()["sha256"]) == (201, PDF_SHA)
    sheet = "工号,姓名,学校代码\nN1,甲,S1\n".encode()
    imported = http.post("/api/v1/imports/teachers", files={"file": ("t.csv", sheet)},
                         headers={"X-CSRF-Token": signed_in["csrf_token"]})
    assert (imported.status_code, imported.json()["accepted"]) == (200, 1)
