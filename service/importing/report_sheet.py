"""An import's report as an Excel workbook: every row's answer, each rejected row's 工号 and 姓名
repeated beside the reason (in Chinese where the code has a label), then the counts."""

from __future__ import annotations

import io

import openpyxl  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from service.importing.importer import ImportReport
from service.labels import CODES

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ("行号", "结果", "工号", "姓名", "代码", "原因", "详情")

ROW_LABELS = {  # the importer's own row codes (docs/import.md); the rules' codes are service.labels.CODES
    "missing_column": "缺少必需的列",
    "missing_value": "必填项为空",
    "invalid_date": "日期格式不正确",
    "invalid_number": "数字格式不正确",
    "unknown_value": "不是可接受的取值",
    "invalid_sessions": "场次安排格式不正确",
}


def label(code: str, reason: str) -> str:
    """The Chinese reason of a code, else the reason as the service gave it."""
    return ROW_LABELS.get(code) or CODES.get(code) or reason


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
