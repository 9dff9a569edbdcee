"""Sheets as Chinese offices really send them: title rows (merged across the columns) above the
header, 到/√/出勤 for present and 缺/×/缺勤 for absent, and each rejected row's 工号 and 姓名 repeated
in the report. Workbooks are built with openpyxl in the test, merged cells and all."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from domain.ids import teacher_uuid
from domain.teacher import Teacher
from service.app import TrainRec
from service.importing.importer import import_file
from service.importing.sheets import PRESENCE, parse_choice, read_rows
from tests.conftest import ADMIN, PROVIDER, SCHOOL_ADMIN, Clock, define


def titled_workbook(path: Path, titles: list[str], rows: list[list[object]]) -> Path:
    """A workbook whose first rows are titles, each merged across the header's width."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    width = len(rows[0])
    for number, title in enumerate(titles, start=1):
        sheet.cell(row=number, column=1, value=title)
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=width)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_title_rows_above_the_header_are_skipped_and_rows_keep_excels_numbers(tmp_path: Path) -> None:
    path = titled_workbook(tmp_path / "名单.xlsx", ["示范县2024年教师名单", "填报单位：城关第一小学"],
                           [["工号", "姓名", "学校代码"], ["Q1", "甲", "S1"]])
    assert list(read_rows(path, ["工号", "姓名", "学校代码"])) == [(4, {"工号": "Q1", "姓名": "甲", "学校代码": "S1"})]
    # without the kind's names the first non-blank row (the title) is the header, as before
    assert [number for number, _ in read_rows(path)] == [2, 3, 4]


def test_cells_merged_down_several_rows_give_their_value_to_each(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [["K1 签到表", None, None, None], ["项目编号", "场次", "工号", "出勤"], ["K1", 1, "A001", "到"],
                [None, None, "A002", "缺"], [None, 2, "A001", "√"], [None, None, "A002", "到"]]:
        sheet.append(row)
    sheet.merge_cells("A1:D1")  # the title, across the columns
    sheet.merge_cells("A3:A6")  # 项目编号 once for the block
    sheet.merge_cells("B3:B4")  # 场次 once per session
    sheet.merge_cells("B5:B6")
    workbook.save(tmp_path / "签到.xlsx")
    assert [(n, [row["项目编号"], row["场次"], row["工号"]]) for n, row in
            read_rows(tmp_path / "签到.xlsx", ["项目编号", "场次", "工号", "出勤"])] == [
        (3, ["K1", "1", "A001"]), (4, ["K1", "1", "A002"]), (5, ["K1", "2", "A001"]), (6, ["K1", "2", "A002"])]


def test_a_csv_title_row_is_skipped_too(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([["城关第一小学教师名单", "", ""], [], ["工号*", "姓名", "学校代码"],
                                      ["Q1", "甲", "S1"]])
    assert list(read_rows(path, ["工号", "姓名", "学校代码"])) == [(4, {"工号*": "Q1", "姓名": "甲", "学校代码": "S1"})]


@pytest.mark.parametrize(("cell", "value"), [
    ("到", "1"), ("√", "1"), ("出勤", "1"), ("是", "1"), ("1", "1"), ("✔", "1"),
    ("缺", "0"), ("×", "0"), ("缺勤", "0"), ("否", "0"), ("0", "0"), ("未到", "0"),
])
def test_presence_marks(cell: str, value: str) -> None:
    assert parse_choice(cell, "出勤", PRESENCE) == value


def test_teachers_under_two_merged_title_rows_with_names_in_the_rejects(county: TrainRec, tmp_path: Path) -> None:
    path = titled_workbook(tmp_path / "教师.xlsx", ["示范县2024年新教师名单", "（城关第一小学）"], [
        ["序号", "工号", "姓名", "学校代码"],
        [1, "Q1", "赵一", "S1"],          # row 4
        [2, "Q2", "钱二", "S3"],          # row 5: not this school's
        [3, "", "孙三", "S1"],            # row 6: no 工号
    ])
    report = import_file(county, "teachers", path, actor=SCHOOL_ADMIN)
    assert [(r.row, r.accepted, r.code, r.teacher_no, r.name) for r in report.results] == [
        (4, True, "", "", ""),
        (5, False, "forbidden_scope", "Q2", "钱二"),
        (6, False, "missing_value", "", "孙三"),
    ]
    assert report.ignored_columns == ["序号"]
    registered: Teacher = county.repository.get(teacher_uuid("Q1"))
    assert registered.name == "赵一"


def test_attendance_with_title_rows_ticks_and_crosses(county: TrainRec, clock: Clock, tmp_path: Path) -> None:
    define(county, "K1")
    for teacher_no in ("A001", "A002", "A003"):
        county.enrol(ADMIN, "K1", teacher_no)
    clock.set(date(2024, 3, 4), hour=18)
    path = titled_workbook(tmp_path / "签到表.xlsx", ["K1 第1场 签到表"], [
        ["项目编号", "场次", "工号", "姓名", "出勤"],
        ["K1", 1, "A001", "张伟", "到"],      # row 3
        ["K1", 1, "A002", "王芳", "√"],       # row 4
        ["K1", 1, "A003", "李娜", "缺"],      # row 5
        ["K1", 1, "C001", "陈静", "到"],      # row 6: not enrolled
        ["K1", 1, "A001", "张伟", "出勤"],    # row 7: twice on the sheet
        ["K1", 1, "A002", "王芳", "迟到"],    # row 8: not a mark
    ])
    report = import_file(county, "attendance", path, actor=PROVIDER)
    assert [(r.row, r.accepted, r.code, r.teacher_no, r.name) for r in report.results] == [
        (3, True, "", "", ""),
        (4, True, "", "", ""),
        (5, True, "", "", ""),
        (6, False, "forbidden_scope", "C001", "陈静"),
        (7, False, "duplicate_line", "A001", "张伟"),
        (8, False, "unknown_value", "A002", "王芳"),
    ]
    def mark(teacher_no: str) -> bool:
        teacher: Teacher = county.repository.get(teacher_uuid(teacher_no))
        return teacher.enrolments["K1"].attendance[1].present

    assert (mark("A001"), mark("A002"), mark("A003")) == (True, True, False)
