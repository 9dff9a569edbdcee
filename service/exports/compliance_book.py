"""`compliance.xlsx`: a unit's compliance answer as a workbook. The first sheet (汇总) holds the unit
and one row per child unit with each rule's value, threshold and whether it is met; then one sheet
per shortfall, named for its rule, listing every teacher behind it with what they lack
(docs/decisions.md "What a shortfall sheet says a teacher lacks"); last, 说明: what the workbook is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from service.exports.xlsx import (
    HOURS,
    PERCENT,
    Column,
    local,
    new_workbook,
    notes,
    number,
    sheet_name,
    table,
    workbook_bytes,
)
from service.labels import ORG_KINDS, RULES

RATIOS = {"share_concentrated_90h", "share_school_based_designated", "share_school_based_elective",
          "participation_rate", "share_cycle_on_track"}
AVERAGES = {"avg_hours_per_teacher", "avg_self_selected_hours"}

# Each shortfall sheet's columns after 工号, 姓名, 学校: (what the teacher has, what the rule asks,
# what is missing), read from `shortfall_members.Gap`'s have, need and missing.
GAP_HEADERS: dict[str, tuple[str, str, str]] = {
    "avg_hours_per_teacher": ("本年度学时", "标准学时", "缺少学时"),
    "avg_self_selected_hours": ("本年度自主选学学时", "标准学时", "缺少学时"),
    "share_concentrated_90h": ("本年度最长一次集中培训学时", "标准学时（一次）", "缺少学时"),
    "share_school_based_designated": ("本年度校本规定内容学时", "标准学时", "缺少学时"),
    "share_school_based_elective": ("本年度校本自选内容学时", "标准学时", "缺少学时"),
    "participation_rate": ("已参训项目数", "应参训项目数", "未参训项目数"),
    "share_cycle_on_track": ("本周期累计学时", "周期进度应达学时", "缺少学时"),
}
OVERDUE_HEADERS = {"overdue_assessments": ("逾期未考核项目数", "逾期项目"),
                   "overdue_evaluations": ("逾期未评价项目数", "逾期项目")}
READING = (
    "缺少学时：各学时类指标为标准学时减去本人该项学时（与统计口径相同，按0.1学时计）；"
    "集中培训指标须有一次不少于标准学时的集中培训，学时不能累加，故缺少学时为一次完整的标准学时；"
    "参训率指标列出未参训项目数（应参训减已参训，批准请假的不计）；"
    "逾期指标无学时可言，列出逾期的报名项目数及项目编号。"
)


def _format(rule: str) -> str | None:
    return PERCENT if rule in RATIOS else HOURS if rule in AVERAGES else None


def _met(figure: dict[str, Any]) -> str:
    if figure["value"] is None:
        return "无数据"
    return "达标" if figure["met"] else "未达标"


def _value(value: Any) -> int | float | None:
    return None if value is None else number(value)


def summary_rows(answer: dict[str, Any]) -> tuple[list[Column], list[list[Any]]]:
    """The 汇总 sheet: the unit's own row (本单位) then each child's, each rule's value, threshold and
    达标/未达标."""
    rules = [figure["rule"] for figure in answer["figures"]]
    columns = [Column("单位编号"), Column("单位名称"), Column("单位类型"), Column("层级"), Column("在册教师数")]
    for rule in rules:
        label = RULES[rule]
        columns += [Column(label, _format(rule)), Column(f"{label}·标准", _format(rule)), Column(f"{label}·达标情况")]
    rows = []
    for unit, level in [(answer, "本单位"), *((kid, "下级单位") for kid in answer.get("children", []))]:
        figures = {figure["rule"]: figure for figure in unit["figures"]}
        row: list[Any] = [unit["org_id"], unit.get("name") or unit["org_id"], ORG_KINDS.get(unit.get("kind", ""), ""),
                          level, unit["teachers"]]
        for rule in rules:
            figure = figures[rule]
            row += [_value(figure["value"]), _value(figure["threshold"]), _met(figure)]
        rows.append(row)
    return columns, rows


def shortfall_rows(rule: str, teachers: Sequence[dict[str, Any]], schools: dict[str, str]
                   ) -> tuple[list[Column], list[list[Any]]]:
    """A shortfall's sheet: each teacher's number, name, school (by name) and what they lack."""
    columns = [Column("工号"), Column("姓名"), Column("学校")]
    rows: list[list[Any]] = []
    if rule in OVERDUE_HEADERS:
        count, codes = OVERDUE_HEADERS[rule]
        columns += [Column(count), Column(codes)]
        for t in teachers:
            gap = t["gap"]
            rows.append([t["teacher_no"], t["name"], schools.get(t["school_id"], t["school_id"]),
                         number(gap.missing), "、".join(gap.programmes)])
        return columns, rows
    hours_format = None if rule == "participation_rate" else HOURS
    columns += [Column(header, hours_format) for header in GAP_HEADERS[rule]]
    for t in teachers:
        gap = t["gap"]
        rows.append([t["teacher_no"], t["name"], schools.get(t["school_id"], t["school_id"]),
                     number(gap.have), number(gap.need), number(gap.missing)])
    return columns, rows


def compliance_workbook(answer: dict[str, Any], sheets: dict[str, list[dict[str, Any]]], schools: dict[str, str],
                        made_at: datetime, as_of: datetime | None) -> bytes:
    """The workbook of `answer` (a compliance answer) with `sheets` (`Reports.shortfall_sheets`:
    every teacher behind each shortfall) and the names of their `schools`."""
    book = new_workbook()
    table(book.create_sheet("汇总"), *summary_rows(answer))
    for rule in [figure["rule"] for figure in answer["figures"]]:
        teachers = sheets.get(rule, [])
        if not teachers:
            continue
        sheet = book.create_sheet(sheet_name(RULES[rule], book.sheetnames))
        table(sheet, *shortfall_rows(rule, teachers, schools))
    lines: list[tuple[str, Any]] = [
        ("单位", f"{answer.get('name') or answer['org_id']}（{answer['org_id']}）"),
        ("统计年度", answer["year"]),
        ("政策版本", answer["policy_version"]),
        ("统计时点（北京时间）", local(as_of or made_at)),
        ("导出时间（北京时间）", local(made_at)),
        ("未达标教师", "每项未达标指标一张表，列出全部未达标教师"),
        ("列的含义", READING),
    ]
    if "stale" in answer:
        lines.append(("注意", f"读模型尚未跟上：已处理至事件 {answer['stale']['position']}，"
                              f"共 {answer['stale']['head']}"))
    notes(book.create_sheet("说明"), lines)
    return workbook_bytes(book)
