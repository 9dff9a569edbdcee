"""`trainrec import`: CSV (UTF-8, BOM, GBK) and XLSX files with Chinese headers, every kind, on every
backend; rejected rows record nothing, a second import records nothing, an interrupted one resumes."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from domain.ids import programme_uuid, teacher_uuid
from domain.programme import Programme
from domain.teacher import Teacher
from domain.vocabulary import AssessmentResult
from service.app import TrainRec
from service.importing import importer
from service.importing.importer import ImportReport, import_file, map_columns
from service.importing.sheets import ImportFileError, parse_date, parse_sessions, read_rows
from service.storage.config import storage_from_url
from tests.conftest import ADMIN, PROVIDER, Clock, build_county, define
from tests.helpers import last_notification

ROOT = Path(__file__).resolve().parents[3]


def write_csv(path: Path, rows: Sequence[Sequence[object]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def answers(report: ImportReport) -> list[tuple[int, bool, str]]:
    return [(r.row, r.accepted, r.code) for r in report.results]


def rejected(report: ImportReport) -> list[tuple[int, str]]:
    return [(r.row, r.code) for r in report.rejected]


def event_types(app: TrainRec, teacher_no: str) -> list[str]:
    return [e.topic.rsplit(".", 1)[-1] for e in app.recorder.select_events(teacher_uuid(teacher_no))]


def import_twice(app: TrainRec, kind: str, path: Path) -> ImportReport:
    """Import, then import again: the second run records nothing and answers every row the same."""
    first = import_file(app, kind, path)
    after_first = last_notification(app)
    second = import_file(app, kind, path)
    assert last_notification(app) == after_first, "re-importing the same file recorded events"
    assert answers(second) == answers(first)
    assert [r.answer for r in second.accepted] == [r.answer for r in first.accepted]
    assert len(second.replayed) == len(first.accepted)
    assert second.events == 0
    return first


# --- teachers ------------------------------------------------------------------------------------
def test_teachers_csv_with_bom(county: TrainRec, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "教师.csv", [
        ["工号", "姓名", "学校代码", "入职日期", "备注"],
        ["T001", "赵敏", "S1", "2020/9/1", ""],
        ["T002", "钱多多", "S2", "2021年3月4日", "新教师"],
        [],
        ["T003", "孙悟空", "S9", "2022-09-01", ""],    # row 5: no such school
        ["T004", "", "S1", "", ""],                    # row 6: no name
        ["T005", "周芷若", "S1", "2022-13-01", ""],    # row 7: no such date
        ["A001", "张伟", "S1", "", ""],                 # row 8: registered already
        ["T006", "吴用", "T1", "", ""],                 # row 9: a town, not a school
        ["T007", "郑爽", "S3", "", ""],
        ["T008", "空\x00字符", "S3", "", ""],          # row 11: a NUL
    ])
    before = last_notification(county)
    report = import_twice(county, "teachers", path)
    assert rejected(report) == [(5, "org_not_found"), (6, "missing_value"), (7, "invalid_date"),
                                (8, "teacher_exists"), (9, "not_a_school"), (11, "invalid_text")]
    assert [r.row for r in report.accepted] == [2, 3, 10]
    assert report.ignored_columns == ["备注"]
    # each accepted row: the teacher's event and its idempotency record; rejected rows nothing
    assert last_notification(county) - before == 2 * 3
    teacher = county.load(Teacher, teacher_uuid("T002"), "", "")
    assert (teacher.name, teacher.school_id, teacher.hired_on) == ("钱多多", "S2", date(2021, 3, 4))


def test_teachers_gbk_csv_and_only_rejected_rows_record_nothing(county: TrainRec, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gbk.csv", [
        ["工号", "姓名", "学校代码"],
        ["G001", "欧阳锋", "S1"],
        ["G002", "黄药师", "S2"],
    ], encoding="gbk")
    assert path.read_bytes()[:2] != b"\xef\xbb"
    report = import_file(county, "teachers", path)
    assert (len(report.accepted), report.rejected) == (2, [])
    assert county.load(Teacher, teacher_uuid("G001"), "", "").name == "欧阳锋"

    bad = write_csv(tmp_path / "bad.csv", [
        ["工号", "姓名"],           # no 学校代码 column
        ["G003", "洪七公"],
        ["G004", "段智兴"],
    ], encoding="gbk")
    before = last_notification(county)
    report = import_file(county, "teachers", bad)
    assert rejected(report) == [(2, "missing_column"), (3, "missing_column")]
    assert "学校代码" in report.rejected[0].reason
    assert last_notification(county) == before


def test_teachers_xlsx_with_date_cells_and_numbers(county: TrainRec, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "teachers.xlsx", [
        ["教师编号", "姓名", "学校代码", "入职日期"],
        [1001, "林黛玉", "S1", datetime(2019, 9, 1)],
        [1002.0, "薛宝钗", "S2", "2018/9/1"],
        [None, None, None, None],
        [1003, "贾宝玉", "S1", "去年"],
    ])
    report = import_twice(county, "teachers", path)
    assert rejected(report) == [(5, "invalid_date")]
    assert county.load(Teacher, teacher_uuid("1001"), "", "").hired_on == date(2019, 9, 1)
    assert county.load(Teacher, teacher_uuid("1002"), "", "").name == "薛宝钗"


# --- programmes ----------------------------------------------------------------------------------
PROGRAMME_HEADER = ["项目编号", "项目名称", "级别", "形式", "选课方式", "校本内容", "学时", "承训机构", "主办单位",
                    "开始日期", "结束日期", "场次安排"]


def test_programmes_xlsx(county: TrainRec, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "programmes.xlsx", [
        PROGRAMME_HEADER,
        ["X1", "班主任能力提升", "县", "集中", "自主选课", None, 16, "P1", "C1", date(2024, 3, 4), "2024/3/5",
         "1@2024-03-04@8;2@2024-03-05@8"],
        ["X2", "校本教研", "校", "校本", "校本", "指定", 8, "S1", "S1", "2024-04-01", "2024-04-01", "2024-04-01@8"],
        ["X3", "Online", "provincial", "online", "mandated", None, 7.5, "P2", "C1", "2024-05-01", "2024-05-02",
         "1@2024-05-01@4；2@2024-05-02@3.5"],
        ["X4", "乡村教师", "乡", "集中", "自主选课", None, 8, "P1", "C1", "2024-03-04", "2024-03-04", "2024-03-04@8"],
        ["X5", "学时不符", "县", "集中", "自主选课", None, 20, "P1", "C1", "2024-03-04", "2024-03-05",
         "1@2024-03-04@8;2@2024-03-05@8"],
        ["X6", "场次错", "县", "集中", "自主选课", None, 8, "P1", "C1", "2024-03-04", "2024-03-04", "第一天8学时"],
        ["X7", "校本缺内容", "校", "校本", "校本", None, 8, "S1", "S1", "2024-04-01", "2024-04-01", "2024-04-01@8"],
        ["X1", "重复", "县", "集中", "自主选课", None, 8, "P1", "C1", "2024-03-04", "2024-03-04", "2024-03-04@8"],
    ])
    report = import_twice(county, "programmes", path)
    assert rejected(report) == [(5, "unknown_value"), (6, "session_hours_mismatch"), (7, "invalid_sessions"),
                                (8, "school_based_content_required"), (9, "programme_exists")]
    assert [r.answer["needs_approval"] for r in report.accepted] == [False, True, False]
    online = county.load(Programme, programme_uuid("X3"), "", "")
    assert (online.level, online.form, online.selection, str(online.hours)) == ("provincial", "online",
                                                                                 "mandated", "7.5")
    assert [s["no"] for s in online.sessions] == [1, 2]


# --- enrolments, attendance, assessments, credits --------------------------------------------------
def test_a_programme_from_enrolment_to_credit(county: TrainRec, clock: Clock, tmp_path: Path) -> None:
    define(county, "K1")  # 2024-03-04..06, 3 sessions of 8 学时
    enrolments = write_csv(tmp_path / "enrol.csv", [
        ["项目编号", "工号", "姓名"],
        ["K1", "A001", "张伟"], ["K1", "A002", "王芳"], ["K1", "A003", "李娜"], ["K1", "C001", "陈静"],
        ["K1", "Z999", "查无此人"], ["K1", "A001", "张伟"], ["K9", "A001", "张伟"],
    ], encoding="utf-8")
    report = import_twice(county, "enrolments", enrolments)
    assert rejected(report) == [(6, "teacher_not_found"), (7, "already_enrolled"), (8, "programme_not_found")]

    clock.set(date(2024, 3, 6), hour=17)
    attendance = write_csv(tmp_path / "attendance.csv", [
        ["项目编号", "场次", "工号", "出勤"],
        ["K1", 1, "A001", "是"], ["K1", 1, "A002", "出席"], ["K1", 1, "A003", "否"],
        ["K1", 1, "B001", "是"],                     # row 5: not enrolled, sinks sheet 1, then named alone
        ["K1", 2, "A001", "1"], ["K1", 2, "A002", "缺席"], ["K1", 2, "A003", "迟到"],   # row 8: unknown value
        ["K1", 1, "A001", "否"],                     # row 9: A001 twice on sheet 1
        ["K1", 3, "A001", "1"], ["K1", 3, "C001", "0"],
        ["K1", 9, "A001", "1"],                      # row 12: no session 9
    ], encoding="gbk")
    before = last_notification(county)
    report = import_twice(county, "attendance", attendance)
    assert rejected(report) == [(5, "not_enrolled"), (8, "unknown_value"), (9, "duplicate_line"),
                                (12, "session_not_found")]
    assert len(report.accepted) == 7
    assert report.events == 7
    # 7 marks; idempotency records: sheet 1 refused then 3 one-line sheets, sheets 2 and 3 whole
    assert last_notification(county) - before == 7 + 3 + 2
    assert event_types(county, "A003").count("AttendanceRecorded") == 1

    assessments = write_xlsx(tmp_path / "assess.xlsx", [
        ["项目编号", "工号", "学习态度", "作业完成", "结果"],
        ["K1", "A001", 5, 5, "优秀"], ["K1", "A002", 4, 4, "合格"], ["K1", "A003", 2, 2, "不合格"],
        ["K1", "C001", 6, 4, "良好"], ["K1", "B001", 4, 4, "良好"], ["K1", "A001", 4, 4, "良好"],
        ["K1", "C001", "四", 4, "良好"], ["K1", "C001", 4, 4, "差"],
    ])
    report = import_twice(county, "assessments", assessments)
    assert rejected(report) == [(5, "invalid_score"), (6, "not_enrolled"), (7, "already_assessed"),
                                (8, "invalid_number"), (9, "unknown_value")]

    awards = write_csv(tmp_path / "credits.csv", [
        ["项目编号", "工号", "学时"],
        ["K1", "A001", "24"], ["K1", "A002", "20.5"], ["K1", "A003", "24"], ["K1", "A001", "24"],
        ["K1", "C001", "24"], ["K1", "A002", "二十"],
    ])
    report = import_twice(county, "credits", awards)
    assert rejected(report) == [(4, "assessment_failed"), (5, "credit_already_awarded"),
                                (6, "assessment_required"), (7, "invalid_number")]
    assert all(r.answer["credit_id"].startswith("C-") for r in report.accepted)
    assert event_types(county, "A002").count("CreditAwarded") == 1


def test_credit_above_programme_hours(county: TrainRec, clock: Clock, tmp_path: Path) -> None:
    define(county, "K1")
    county.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 6), hour=17)
    county.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.GOOD)
    path = write_csv(tmp_path / "c.csv", [["program_code?", "工号", "学时"], ["K1", "A001", "25"]])
    assert rejected(import_file(county, "credits", path)) == [(2, "missing_column")]
    path = write_csv(tmp_path / "c2.csv", [["code", "teacher_no", "hours"], ["K1", "A001", "25"], ["K1", "A001", "24"]])
    report = import_file(county, "credits", path)
    assert rejected(report) == [(2, "hours_exceed_programme")]


# --- resuming -----------------------------------------------------------------------------------
class Interrupted(Exception):
    pass


def stop_after(rows: int) -> Callable[[int, int], None]:
    def progress(done: int, total: int) -> None:
        if done >= rows:
            raise Interrupted

    return progress


def test_an_interrupted_import_resumes_without_duplicates(
    county: TrainRec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows share a transaction per batch: an interruption inside a batch records none of its rows,
    the batches before it stay recorded, and importing the file again finishes it exactly once."""
    monkeypatch.setattr(importer, "BATCH_ROWS", 2)
    define(county, "K1")
    teachers = ["A001", "A002", "A003", "B001", "C001", "C002"]
    path = write_csv(tmp_path / "enrol.csv", [["项目编号", "工号"], *[["K1", no] for no in teachers]])
    with pytest.raises(Interrupted):
        import_file(county, "enrolments", path, progress=stop_after(3))  # inside the second batch
    assert [no for no in teachers if "Enrolled" in event_types(county, no)] == teachers[:2]
    report = import_file(county, "enrolments", path)
    assert (len(report.accepted), len(report.replayed), report.rejected) == (6, 2, [])
    for no in teachers:
        assert event_types(county, no).count("Enrolled") == 1
    again = import_file(county, "enrolments", path)
    assert len(again.replayed) == 6


def test_an_interrupted_attendance_import_resumes(
    county: TrainRec, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_ROWS", 3)  # one sheet of three lines per transaction
    define(county, "K1")
    for no in ("A001", "A002", "A003"):
        county.enrol(ADMIN, "K1", no)
    clock.set(date(2024, 3, 6), hour=17)
    path = write_xlsx(tmp_path / "att.xlsx", [
        ["项目编号", "场次", "工号", "出勤"],
        *[["K1", session, no, "是"] for session in (1, 2, 3) for no in ("A001", "A002", "A003")],
    ])
    with pytest.raises(Interrupted):
        import_file(county, "attendance", path, progress=stop_after(4))  # inside the second sheet's batch
    assert event_types(county, "A001").count("AttendanceRecorded") == 1  # the first sheet, whole
    report = import_file(county, "attendance", path)
    assert (len(report.accepted), len(report.replayed), report.events) == (9, 3, 6)
    for no in ("A001", "A002", "A003"):
        assert event_types(county, no).count("AttendanceRecorded") == 3


def test_a_prefix_then_the_whole_file(county: TrainRec, tmp_path: Path) -> None:
    """A different file (here a prefix) has other keys: rows it recorded are refused, not doubled."""
    define(county, "K1")
    rows = [["项目编号", "工号"], ["K1", "A001"], ["K1", "A002"], ["K1", "A003"]]
    import_file(county, "enrolments", write_csv(tmp_path / "part.csv", rows[:2]))
    report = import_file(county, "enrolments", write_csv(tmp_path / "all.csv", rows))
    assert rejected(report) == [(2, "already_enrolled")]
    assert [event_types(county, no).count("Enrolled") for no in ("A001", "A002", "A003")] == [1, 1, 1]


# --- reading files (pure) -----------------------------------------------------------------------
def test_reading_rows_and_cells(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeff工号,姓名\r\n\r\nA1,\"张\n三\"\r\nA2,李四\r\n".encode())
    assert list(read_rows(path)) == [(3, {"工号": "A1", "姓名": "张\n三"}), (4, {"工号": "A2", "姓名": "李四"})]
    tabbed = tmp_path / "u16.txt"
    tabbed.write_bytes("工号\t姓名\nA1\t王五\n".encode("utf-16"))
    assert list(read_rows(tabbed)) == [(2, {"工号": "A1", "姓名": "王五"})]
    assert [parse_date(text, "d") for text in ("2025-03-04", "2025/3/4", "2025年3月4日", "2025.3.4")] == \
        [date(2025, 3, 4)] * 4
    assert [(s.no, s.on, str(s.hours)) for s in parse_sessions("2025-03-04@8\n2025-03-05@4.5")] == \
        [(1, date(2025, 3, 4), "8"), (2, date(2025, 3, 5), "4.5")]
    late_header = tmp_path / "late.csv"
    late_header.write_text("\n,\n备注,工号,备注\na,A9,b\n", encoding="utf-8")
    assert list(read_rows(late_header)) == [(4, {"备注": "a", "工号": "A9", "备注 (2)": "b"})]
    assert map_columns("enrolments", ["备注", "工号", "备注 (2)", "项目编号"]) == \
        ({"teacher_no": "工号", "code": "项目编号"}, ["备注", "备注 (2)"])
    with pytest.raises(ImportFileError) as caught:
        map_columns("teachers", ["工号", "姓名", "teacher_no"])
    assert caught.value.code == "duplicate_column"
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(ImportFileError) as caught:
        list(read_rows(old))
    assert caught.value.code == "unsupported_file"
    with pytest.raises(ImportFileError) as caught:
        import_file(TrainRec(storage_from_url("memory://")), "teachers", tmp_path / "missing.csv")
    assert caught.value.code == "unreadable_file"
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ImportFileError):
        list(read_rows(empty))


def test_rejected_report_csv_has_a_bom(county: TrainRec, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [["工号", "姓名", "学校代码"], ["Q1", "甲", "S1"], ["Q2", "乙", "无"]])
    report = import_file(county, "teachers", path)
    out = tmp_path / "rejected.csv"
    report.write_csv(out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle)) == [["row", "code", "reason", "teacher_no", "name"],
                                            ["3", "org_not_found", "no org unit 无", "Q2", "乙"]]


# --- the command line ---------------------------------------------------------------------------
def test_cli_import_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    app = TrainRec(storage_from_url(url))
    build_county(app)
    app.close()
    path = write_csv(tmp_path / "teachers.csv", [
        ["工号", "姓名", "学校代码"], ["N1", "新教师", "S1"], ["N2", "另一位", "S9"],
    ], encoding="gbk")
    env = {**os.environ, "TRAINREC_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "service.cli", "import", "teachers", str(path), "--report", "rejected.csv"]
    first = subprocess.run(command, cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=False, timeout=120)
    assert first.returncode == 1, first.stderr
    assert "row 3: org_not_found" in first.stdout
    assert "1 accepted (0 already imported before), 1 rejected" in first.stdout
    second = subprocess.run(command, cwd=tmp_path, env=env,
                            capture_output=True, text=True, check=False, timeout=120)
    assert "1 accepted (1 already imported before), 1 rejected; 0 events recorded" in second.stdout
    assert (tmp_path / "rejected.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("3,org_not_found")
    app = TrainRec(storage_from_url(url))
    assert app.load(Teacher, teacher_uuid("N1"), "", "").name == "新教师"
    app.close()
    bad_role = subprocess.run([*command[:5], "--role", "provider"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=False, timeout=120)
    assert bad_role.returncode == 2
    assert "--org" in bad_role.stderr
