"""`roster.xlsx`: a programme's roster as a workbook: one row per enrolment with the trainee's name
and school, a column per session (出勤 / 缺勤, blank when not marked), attendance, assessment,
evaluation and the hours credited; then 说明 with the programme's figures."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from service.exports.xlsx import HOURS, PERCENT, Column, local, new_workbook, notes, number, table, workbook_bytes
from service.labels import ABSENCE_KINDS, RESULTS, STATUSES


def _assessment(enrolment: dict[str, Any]) -> str:
    assessment = enrolment["assessment"]
    if assessment is None:
        return "未考核"
    return RESULTS[assessment["result"]] + ("（逾期）" if assessment["late"] else "")


def _evaluation(enrolment: dict[str, Any], overdue: set[str]) -> str:
    if enrolment["evaluated"]:
        return "已评价（逾期）" if enrolment["evaluation_late"] else "已评价"
    return "逾期未评价" if enrolment["teacher_no"] in overdue else "未评价"


def _absence(enrolment: dict[str, Any]) -> str:
    absence = enrolment["absence"]
    if absence is None:
        return ""
    text = f"{ABSENCE_KINDS[absence['kind']]}·{STATUSES.get(absence['status'], absence['status'])}"
    return text + (f"（由 {absence['substitute_teacher_no']} 替换）" if absence["substitute_teacher_no"] else "")


def roster_workbook(roster: dict[str, Any], sessions: list[dict[str, Any]], attendance: dict[int, dict[str, bool]],
                    credited: dict[str, Decimal], schools: dict[str, str], made_at: datetime) -> bytes:
    """The workbook of `roster` (a roster answer), with the programme's `sessions` ({"no", "on",
    "hours"}), each session's marks (`attendance`: no → teacher → present), the hours `credited`
    to each trainee and the names of their `schools`."""
    book = new_workbook()
    sheet = book.create_sheet("花名册")
    ordered = sorted(sessions, key=lambda s: int(s["no"]))
    columns = [Column("工号"), Column("姓名"), Column("学校"), Column("替换对象"), Column("请假/替换")]
    columns += [Column(f"第{s['no']}次 {_day(s['on'])}") for s in ordered]
    columns += [Column("出勤次数"), Column("出勤率", PERCENT), Column("考核结果"), Column("评价"),
                Column("认定学时", HOURS)]
    overdue = set(roster["overdue_evaluations"])
    rows = []
    for e in roster["enrolled"]:
        no = e["teacher_no"]
        marks = []
        for s in ordered:
            present = attendance.get(int(s["no"]), {}).get(no)
            marks.append(None if present is None else "出勤" if present else "缺勤")
        hours = credited.get(no)
        rows.append([no, e["name"], schools.get(e["school_id"], e["school_id"]), e["substitutes_for"], _absence(e),
                     *marks, e["sessions_present"], e["attendance_rate"], _assessment(e), _evaluation(e, overdue),
                     None if hours is None else number(hours)])
    table(sheet, columns, rows)
    counts = roster["counts"]
    lines: list[tuple[str, Any]] = [
        ("项目", f"{roster['title']}（{roster['code']}）"),
        ("结束日期", date.fromisoformat(roster["ends_on"])),
        ("课次（已举行）", f"{roster['sessions']}（{roster['sessions_held']}）"),
        ("报名人数", counts["enrolled"]),
        ("批准缺席", counts["approved_absences"]),
        ("实际参训", counts["attended"]),
        ("参训率", "无数据" if roster["participation_rate"] is None else f"{roster['participation_rate']:.2%}"),
        ("出勤率", "无数据" if roster["attendance_rate"] is None else f"{roster['attendance_rate']:.2%}"),
        ("逾期未考核", "、".join(roster["overdue_assessments"]) or "无"),
        ("逾期未评价", "、".join(roster["overdue_evaluations"]) or "无"),
        ("导出时间（北京时间）", local(made_at)),
    ]
    notes(book.create_sheet("说明"), lines)
    return workbook_bytes(book)


def _day(on: Any) -> str:
    day = on if isinstance(on, date) else date.fromisoformat(str(on))
    return day.isoformat()

