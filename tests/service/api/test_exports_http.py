"""compliance.xlsx and roster.xlsx: the workbooks opened with openpyxl, their cells against figures
computed by hand from the test county, on every backend.

The county (tests/conftest.py `build_county`), year 2024, read on 2024-03-20: programme P24
(concentrated, self-selected, 3 sessions of 8 h, 4–6 March) with A001 and A002 enrolled; session 1
marks A001 present and A002 absent; A001 assessed `pass` and credited 24 h, never evaluated (overdue
since 16 March); A002 never assessed (overdue since 11 March). Six teachers in C1: T1 holds S1
(A001–A003) and S2 (B001), T2 holds S3 (C001, C002)."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from domain.vocabulary import AssessmentResult
from service.app import TrainRec
from service.exports.xlsx import display_width, sheet_name
from tests.conftest import (
    ADMIN,
    AUDITOR,
    COUNTY_SUP,
    OTHER_SCHOOL_ADMIN,
    OTHER_TOWN_SUP,
    PROVIDER,
    Clock,
    build_county,
    define,
    teacher_actor,
)
from tests.service.api.conftest import bearer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
A = bearer(ADMIN)


@pytest.fixture
def county(service: TrainRec, clock: Clock) -> TrainRec:
    clock.set(date(2024, 2, 20))
    build_county(service)
    define(service, "P24", starts_on=date(2024, 3, 4), days=3)
    service.enrol(ADMIN, "P24", "A001")
    service.enrol(ADMIN, "P24", "A002")
    clock.set(date(2024, 3, 4), hour=18)
    service.record_attendance(PROVIDER, "P24", 1, ["A001"], ["A002"])
    clock.set(date(2024, 3, 6), hour=18)
    service.assess(PROVIDER, "P24", "A001", 4, 4, AssessmentResult.PASS)
    service.award_credit(PROVIDER, "P24", "A001", Decimal(24))
    clock.set(date(2024, 3, 20))
    return service


def book(response: Any) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    return load_workbook(io.BytesIO(response.content))


def rows(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def by_header(sheet: Any) -> list[dict[str, Any]]:
    header, *body = rows(sheet)
    return [dict(zip(header, row, strict=True)) for row in body]


def test_the_compliance_workbook_holds_the_figures_and_every_shortfall(client: TestClient, county: TrainRec) -> None:
    answer = client.get("/api/v1/orgs/C1/compliance.xlsx?year=2024", headers=bearer(COUNTY_SUP))
    workbook = book(answer)
    assert workbook.sheetnames == ["汇总", "人均学时", "人均自主选学学时", "集中培训达90学时的教师占比",
                                   "校本规定内容达标占比", "校本自选内容达标占比", "参训率", "周期学时进度达标占比",
                                   "逾期未考核", "逾期未评价", "说明"]
    summary = by_header(workbook["汇总"])
    assert [(r["单位编号"], r["单位名称"], r["单位类型"], r["层级"], r["在册教师数"]) for r in summary] == [
        ("C1", "示范县", "县（区）", "本单位", 6), ("T1", "城关镇", "乡镇（学区）", "下级单位", 4),
        ("T2", "河西镇", "乡镇（学区）", "下级单位", 2)]
    county_row, t1, t2 = summary
    assert (county_row["人均学时"], county_row["人均学时·标准"], county_row["人均学时·达标情况"]) == (4, 76, "未达标")
    assert (t1["人均学时"], t2["人均学时"]) == (6, 0)  # 24 h over 4 teachers, none over 2
    assert (county_row["参训率"], t1["参训率"], t2["参训率"], t2["参训率·达标情况"]) == (0.5, 0.5, None, "无数据")
    overdue = ("逾期未考核", "逾期未考核·标准", "逾期未考核·达标情况")
    assert [county_row[header] for header in overdue] == [1, 0, "未达标"]
    assert workbook["汇总"]["F2"].number_format == "0.0"  # 人均学时, a number shown with one decimal
    share = next(cell for cell in workbook["汇总"][1] if cell.value == "集中培训达90学时的教师占比")
    assert workbook["汇总"].cell(2, share.column).value == 0  # a number, shown as a percentage
    assert workbook["汇总"].cell(2, share.column).number_format == "0.00%"
    assert workbook["汇总"].cell(2, share.column + 1).value == 0.22

    hours = by_header(workbook["人均学时"])
    assert [(r["工号"], r["姓名"], r["学校"], r["本年度学时"], r["标准学时"], r["缺少学时"]) for r in hours] == [
        ("A001", "张伟", "城关第一小学", 24, 76, 52), ("A002", "王芳", "城关第一小学", 0, 76, 76),
        ("A003", "李娜", "城关第一小学", 0, 76, 76), ("B001", "刘洋", "城关中学", 0, 76, 76),
        ("C001", "陈静", "河西小学", 0, 76, 76), ("C002", "欧阳娜娜", "河西小学", 0, 76, 76)]
    assert [r["缺少学时"] for r in by_header(workbook["人均自主选学学时"])][:2] == [14, 38]
    assert [r["缺少学时"] for r in by_header(workbook["校本规定内容达标占比"])] == [8] * 6
    assert [r["缺少学时"] for r in by_header(workbook["校本自选内容达标占比"])] == [16] * 6
    # 2024 is the 4th year of the 2021–2025 cycle: 360 × 4 / 5 = 288 h due by its end
    cycle = by_header(workbook["周期学时进度达标占比"])
    assert [(r["工号"], r["本周期累计学时"], r["周期进度应达学时"], r["缺少学时"]) for r in cycle][:2] == [
        ("A001", 24, 288, 264), ("A002", 0, 288, 288)]
    assert [(r["工号"], r["已参训项目数"], r["应参训项目数"], r["未参训项目数"])
            for r in by_header(workbook["参训率"])] == [("A002", 0, 1, 1)]
    assert [(r["工号"], r["逾期未考核项目数"], r["逾期项目"]) for r in by_header(workbook["逾期未考核"])] == [
        ("A002", 1, "P24")]
    assert [(r["工号"], r["姓名"], r["逾期未评价项目数"], r["逾期项目"])
            for r in by_header(workbook["逾期未评价"])] == [("A001", "张伟", 1, "P24")]

    notes = dict(rows(workbook["说明"])[1:])
    assert notes["统计年度"] == 2024
    assert notes["导出时间（北京时间）"] == datetime(2024, 3, 20, 10, 0)  # the clock's 10:00 in Shanghai


def test_a_concentrated_shortfall_lacks_a_whole_programme_not_the_difference(
        client: TestClient, county: TrainRec) -> None:
    """docs/decisions.md "What a shortfall sheet says a teacher lacks": A001's 24 h concentrated credit
    does not bring a 90 h one nearer; the sheet says 90 h missing, beside the 24 h they have."""
    workbook = book(client.get("/api/v1/orgs/C1/compliance.xlsx?year=2024", headers=A))
    concentrated = by_header(workbook["集中培训达90学时的教师占比"])
    assert [(r["工号"], r["本年度最长一次集中培训学时"], r["标准学时（一次）"], r["缺少学时"])
            for r in concentrated][:2] == [("A001", 24, 90, 90), ("A002", 0, 90, 90)]


def test_headers_are_frozen_and_columns_fit_their_content(client: TestClient, county: TrainRec) -> None:
    workbook = book(client.get("/api/v1/orgs/C1/compliance.xlsx?year=2024", headers=A))
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.bold for cell in sheet[1])
    names = workbook["人均学时"]
    assert names.column_dimensions["B"].width == display_width("欧阳娜娜") + 2 == 10
    assert names.column_dimensions["C"].width == display_width("城关第一小学") + 2 == 14
    assert names.column_dimensions["A"].width == len("工号") * 2 + 2  # the header is the widest: 工号 = 4
    assert isinstance(names["F2"].value, int)  # numbers are numbers, not text


def test_the_download_is_named_in_chinese_with_an_ascii_fallback(client: TestClient, county: TrainRec) -> None:
    answer = client.get("/api/v1/orgs/C1/compliance.xlsx?year=2024", headers=A)
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="compliance-C1-2024.xlsx"; ')
    assert f"filename*=UTF-8''{quote('示范县2024年度培训合规报表.xlsx')}" in disposition
    roster = client.get("/api/v1/programmes/P24/roster.xlsx", headers=A)
    assert 'filename="roster-P24.xlsx"' in roster.headers["content-disposition"]
    assert quote("培训项目P24花名册.xlsx") in roster.headers["content-disposition"]


def test_a_shortfall_sheet_lists_every_teacher_not_the_first_fifty(
        client: TestClient, county: TrainRec, clock: Clock) -> None:
    for n in range(1, 56):
        county.register_teacher(ADMIN, f"D{n:03d}", f"教师{n}", "S2", date(2015, 9, 1))
    workbook = book(client.get("/api/v1/orgs/C1/compliance.xlsx?year=2024", headers=A))
    listed = by_header(workbook["人均学时"])
    assert len(listed) == 61  # the six of the county and 55 more, where the JSON names 50
    assert [r["工号"] for r in listed] == sorted(["A001", "A002", "A003", "B001", "C001", "C002",
                                                *(f"D{n:03d}" for n in range(1, 56))])
    assert listed[-1]["姓名"] == "教师55"
    assert listed[-1]["学校"] == "城关中学"
    answer = client.get("/api/v1/orgs/C1/compliance?year=2024", headers=A).json()
    named = {s["rule"]: s for s in answer["shortfalls"]}["avg_hours_per_teacher"]
    assert len(named["teachers"]) == 50
    assert named["teachers_next"] is not None


def test_the_workbook_as_of_an_earlier_day(client: TestClient, county: TrainRec) -> None:
    """As of 5 March, before the credit and any deadline: A001 lacks all 76 h, nothing is overdue."""
    workbook = book(client.get("/api/v1/orgs/C1/compliance.xlsx?year=2024&as_of=2024-03-05", headers=A))
    assert "逾期未考核" not in workbook.sheetnames
    assert "逾期未评价" not in workbook.sheetnames
    assert by_header(workbook["人均学时"])[0]["缺少学时"] == 76
    assert dict(rows(workbook["说明"])[1:])["统计时点（北京时间）"] == datetime(2024, 3, 5, 23, 59, 59)


def test_the_roster_workbook(client: TestClient, county: TrainRec) -> None:
    workbook = book(client.get("/api/v1/programmes/P24/roster.xlsx", headers=bearer(PROVIDER)))
    assert workbook.sheetnames == ["花名册", "说明"]
    sheet = workbook["花名册"]
    assert sheet.freeze_panes == "A2"
    listed = by_header(sheet)
    assert [(r["工号"], r["姓名"], r["学校"], r["第1次 2024-03-04"], r["第2次 2024-03-05"], r["出勤次数"],
             r["出勤率"], r["考核结果"], r["评价"], r["认定学时"]) for r in listed] == [
        ("A001", "张伟", "城关第一小学", "出勤", None, 1, 0.3333, "合格", "逾期未评价", 24),
        ("A002", "王芳", "城关第一小学", "缺勤", None, 0, 0, "未考核", "未评价", None)]
    assert sheet["J2"].number_format == "0.00%"  # 出勤率, after five columns and three sessions
    notes = dict(rows(workbook["说明"])[1:])
    assert notes["结束日期"] == datetime(2024, 3, 6)  # a date cell
    assert notes["参训率"] == "50.00%"
    assert notes["逾期未考核"] == "A002"


@pytest.mark.parametrize(("path", "actor"), [
    ("/api/v1/orgs/T1/compliance.xlsx?year=2024", OTHER_TOWN_SUP),
    ("/api/v1/orgs/C1/compliance.xlsx?year=2024", PROVIDER),
    ("/api/v1/orgs/S1/compliance.xlsx?year=2024", teacher_actor("A001")),
    ("/api/v1/orgs/S1/compliance.xlsx?year=2024", OTHER_SCHOOL_ADMIN),
    ("/api/v1/programmes/P24/roster.xlsx", teacher_actor("A001")),
])
def test_scope_refusals_are_problems(client: TestClient, county: TrainRec, path: str, actor: Any) -> None:
    answer = client.get(path, headers=bearer(actor))
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "forbidden_scope"


def test_an_auditor_of_the_county_may_export(client: TestClient, county: TrainRec) -> None:
    assert book(client.get("/api/v1/orgs/T2/compliance.xlsx?year=2024", headers=bearer(AUDITOR)))


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/api/v1/orgs/C1/compliance.xlsx?year=1900", 422, "invalid_input"),
    ("/api/v1/orgs/C1/compliance.xlsx?year=abc", 422, "invalid_input"),
    ("/api/v1/orgs/C1/compliance.xlsx", 422, "invalid_input"),
    ("/api/v1/orgs/C1/compliance.xlsx?year=2024&as_of=yesterday", 422, "invalid_instant"),
    ("/api/v1/orgs/NOPE/compliance.xlsx?year=2024", 404, "org_not_found"),
    ("/api/v1/programmes/NOPE/roster.xlsx", 404, "programme_not_found"),
])
def test_bad_input_is_refused(client: TestClient, county: TrainRec, path: str, status: int, code: str) -> None:
    answer = client.get(path, headers=A)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code


def test_sheet_names_are_safe_and_short() -> None:
    assert sheet_name("a/b:c*d?e[f]g\\h", []) == "a_b_c_d_e_f_g_h"
    assert len(sheet_name("长" * 40, [])) == 31
    assert sheet_name("参训率", ["参训率"]) == "参训率(2)"
