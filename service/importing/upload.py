"""A sheet sent over HTTP (the API's upload route and the school's upload page): its bytes written
where the importer reads them, imported as the caller, and the names its report goes by."""

from __future__ import annotations

import tempfile
from pathlib import Path

from domain.actor import Actor
from domain.errors import NotFound
from service.app import TrainRec
from service.auth.scopes import IMPORTS
from service.commands.evidence import clean_name
from service.importing.importer import KINDS, ImportReport, import_file
from service.importing.sheets import XLSX_MAGIC

KIND_NAMES = {  # the kinds of sheet as a page names them
    "teachers": "教师名册",
    "programmes": "培训项目",
    "enrolments": "报名名单",
    "attendance": "考勤表",
    "assessments": "考核结果",
    "credits": "学时认定",
    "prior-hours": "历史学时",
}


def ensure_import_allowed(app: TrainRec, actor: Actor, kind: str) -> None:
    """An unknown kind is 404 `unknown_import_kind`; a role that never may record the kind's rows is
    refused the whole sheet (nothing read)."""
    if kind not in KINDS:
        raise NotFound("unknown_import_kind", f"no import {kind!r}; one of {', '.join(KINDS)}")
    app.scopes.gate(actor, IMPORTS[kind])


def import_upload(app: TrainRec, actor: Actor, kind: str, content: bytes, file_name: str | None,
                  max_rows: int) -> tuple[ImportReport, str]:
    """Import the sheet `content` (CSV or XLSX) as `trainrec import KIND` does, as `actor`; returns
    the report and the file's name as kept. A file that cannot be imported raises ImportFileError."""
    name = clean_name(file_name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    with tempfile.TemporaryDirectory(prefix="trainrec-import-") as folder:
        # openpyxl reads a workbook by its extension; the importer goes by the bytes' magic
        path = Path(folder) / ("sheet.xlsx" if content.startswith(XLSX_MAGIC) else "sheet.csv")
        path.write_bytes(content)
        report = import_file(app, kind, path, actor, max_rows=max_rows, file_name=name)
    return report, name


def report_file_name(name: str) -> str:
    """The name of the report workbook of the sheet `name`."""
    stem = name.rsplit(".", 1)[0] or "sheet"
    return f"{stem}-导入结果.xlsx"
