"""An import's report as an Excel workbook: every row's answer, each rejected row's 工号 and 姓名
repeated beside the reason (in Chinese where the code has a label), then the counts."""

from __future__ import annotations

import io

import openpyxl  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from service.importing.importer import ImportReport

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ("行号", "结果", "工号", "姓名", "代码", "原因", "详情")

LABELS = {
    # the importer's own codes (docs/import.md)
    "missing_column": "缺少必需的列",
    "missing_value": "必填项为空",
    "invalid_date": "日期格式不正确",
    "invalid_number": "数字格式不正确",
    "unknown_value": "不是可接受的取值",
    "invalid_sessions": "场次安排格式不正确",
    "invalid_text": "含有控制字符",
    "duplicate_line": "同一教师在本表中重复出现",
    # the rules' codes most sheets meet
    "forbidden_scope": "超出您的权限范围",
    "teacher_not_found": "查无此教师",
    "org_not_found": "查无此单位",
    "not_a_school": "不是学校",
    "teacher_exists": "教师已存在",
    "programme_not_found": "查无此项目",
    "programme_exists": "项目已存在",
    "session_hours_mismatch": "场次学时之和与总学时不符",
    "school_based_content_required": "校本研修须注明校本内容",
    "already_enrolled": "已报名",
    "programme_full": "名额已满",
    "programme_ended": "项目已结束",
    "evaluation_pending": "尚有未完成的评教",
    "not_enrolled": "未报名该项目",
    "session_not_found": "查无此场次",
    "session_not_held": "该场次尚未举行",
    "absence_approved": "已准假",
    "invalid_score": "分数须为1至5",
    "already_assessed": "已考核",
    "programme_not_ended": "项目尚未结束",
    "assessment_required": "尚未考核",
    "assessment_failed": "考核不合格",
    "hours_exceed_programme": "学时超过项目总学时",
    "credit_already_awarded": "学分已认定",
    "invalid_hours": "学时不正确",
    "invalid_year": "年度不正确",
    "invalid_breakdown": "学时分项不正确",
    "prior_hours_already_recorded": "历史学时已登记",
    "late_reason_required": "补录须填写补录原因",
    "occurred_in_future": "发生日期晚于今天",
    "bidi_control": "含有文字方向控制字符",
}


def label(code: str, reason: str) -> str:
    """The Chinese reason of a code, else the reason as the service gave it."""
    return LABELS.get(code, reason)


def report_workbook(report: ImportReport) -> bytes:
    """Sheet 导入结果: one line per row of the file (rejected rows with their 工号, 姓名, code, reason
    and the service's own words), then a blank line and the counts."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "导入结果"
    sheet.append(list(HEADER))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in report.results:
        if r.accepted:
            outcome = "已导入（此前）" if r.replayed else "已导入"
            sheet.append([r.row, outcome, r.teacher_no, r.name, "", "", ""])
        else:
            sheet.append([r.row, "拒绝", r.teacher_no, r.name, r.code, label(r.code, r.reason), r.reason])
        for cell in sheet[sheet.max_row]:  # text from the sheet stays text, never a formula ("=...")
            if cell.data_type == "f":
                cell.data_type = "s"
    sheet.append([])
    sheet.append(["行数", len(report.results)])
    sheet.append(["已导入", len(report.accepted)])
    sheet.append(["拒绝", len(report.rejected)])
    sheet.append(["记录事件", report.events])
    for column, width in zip("ABCDEFG", (8, 14, 14, 12, 26, 28, 60), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
