"""Import sheets with 发生日期 and 补录原因: a county enters last term's enrolments, attendance,
assessments and credits as they happened, on every backend; rows without a needed reason are named."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from domain.ids import teacher_uuid
from service.app import TrainRec
from service.importing.importer import import_file
from tests.conftest import Clock, build_county, define

WHY = "原平台数据迁移"


def _csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _events(app: TrainRec, teacher_no: str, kind: str) -> list[Any]:
    return [e for e in app.events.get(teacher_uuid(teacher_no)) if type(e).__name__ == kind]


def test_a_late_sheet_records_each_row_on_the_day_it_happened(app: TrainRec, clock: Clock, tmp_path: Path) -> None:
    clock.set(date(2024, 2, 20))
    build_county(app)
    define(app, "K1")  # 2024-03-04 … 03-06
    clock.set(date(2024, 5, 10))
    enrolments = import_file(app, "enrolments", _csv(tmp_path / "e.csv", [
        ["项目编号", "工号", "姓名", "发生日期", "补录原因"],
        ["K1", "A001", "张伟", "2024/3/1", WHY],
        ["K1", "A002", "王芳", "2024年3月2日", ""],  # 69 days back without a reason
        ["K1", "A003", "李娜", "2024-05-11", WHY],  # tomorrow
        ["K1", "B001", "刘洋", "", ""],  # today: K1 has ended
    ]))
    assert [(r.row, r.accepted, r.code) for r in enrolments.results] == [
        (2, True, ""), (3, False, "late_reason_required"), (4, False, "occurred_in_future"),
        (5, False, "programme_ended")]
    enrolled = _events(app, "A001", "Enrolled")[0]
    assert (enrolled.occurred_on, enrolled.late_entry, enrolled.late_reason) == (date(2024, 3, 1), True, WHY)

    attendance = import_file(app, "attendance", _csv(tmp_path / "a.csv", [
        ["项目编号", "场次", "工号", "出勤", "发生日期", "补录原因"],
        ["K1", "1", "A001", "√", "2024-05-01", "纸质签到表"],
        ["K1", "2", "A001", "√", "", ""],
    ]))
    assert [(r.row, r.accepted, r.code) for r in attendance.results] == [
        (2, True, ""), (3, False, "late_reason_required")]
    assert attendance.ignored_columns == ["发生日期"]  # a mark happened on its session's day
    (mark,) = _events(app, "A001", "AttendanceRecorded")
    assert (mark.occurred_on, mark.late_reason) == (date(2024, 3, 4), "纸质签到表")

    assessments = import_file(app, "assessments", _csv(tmp_path / "s.csv", [
        ["项目编号", "工号", "学习态度", "作业完成", "考核结果", "发生日期", "补录原因"],
        ["K1", "A001", "4", "5", "优秀", "2024-03-08", WHY],
    ]))
    assert assessments.rejected == []
    awarded = import_file(app, "credits", _csv(tmp_path / "c.csv", [
        ["项目编号", "工号", "认定学时", "发生日期", "补录原因"],
        ["K1", "A001", "24", "2024-03-18", WHY],
    ]))
    assert awarded.rejected == []
    (assessed,) = _events(app, "A001", "Assessed")
    (credit,) = _events(app, "A001", "CreditAwarded")
    assert (assessed.occurred_on, assessed.late) == (date(2024, 3, 8), False)
    assert (credit.awarded_on, credit.late_entry) == (date(2024, 3, 18), True)
