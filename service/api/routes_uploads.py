"""Uploads: sheets imported through the same rows and rules as `trainrec import`, and evidence files
kept by their sha256 (multipart/form-data, field `file`)."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Header, Path, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from domain.errors import NotFound
from service.api.deps import CurrentActor, Service
from service.auth.scopes import IMPORTS
from service.commands.evidence import MAX_EVIDENCE_BYTES, MEDIA_TYPES, TooLarge, clean_name
from service.importing.importer import KINDS, import_file
from service.importing.report_sheet import XLSX_MEDIA_TYPE, report_workbook
from service.importing.sheets import XLSX_MAGIC

router = APIRouter(prefix="/api/v1", tags=["uploads"])

MAX_SHEET_BYTES = 5 * 1024 * 1024
MAX_SHEET_ROWS = 20_000
"""A sheet imported over HTTP runs while the request waits: at most this many data rows (about a
minute's work); larger sheets are split, or imported with `trainrec import`."""
MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_LIMITS = {  # the body limits of the upload routes (service.api.main.BodyLimit): file + form
    "/api/v1/evidence": (MAX_EVIDENCE_BYTES + MULTIPART_OVERHEAD, "evidence_too_large"),
    "/api/v1/imports/": (MAX_SHEET_BYTES + MULTIPART_OVERHEAD, "import_too_large"),
    "/disputes/new": (5 * MAX_EVIDENCE_BYTES + MULTIPART_OVERHEAD, "evidence_too_large"),  # the dispute form: 5 files
}


def _read(file: UploadFile, limit: int) -> bytes | None:
    """The uploaded file's bytes, or None when there are more than `limit`."""
    content = file.file.read(limit + 1)
    return None if len(content) > limit else content


@router.post("/imports/{kind}", response_model=dict[str, Any])
def import_sheet(
    kind: Annotated[str, Path(min_length=1, max_length=32)],
    actor: CurrentActor,
    service: Service,
    file: Annotated[UploadFile, File(description="the sheet: CSV or XLSX, with the columns of docs/import.md")],
    answer_format: Annotated[str | None, Query(alias="format", pattern="^(json|xlsx)$",
                                               description="xlsx: the report as a workbook")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Import a sheet as `trainrec import KIND FILE` does, as the caller: the same row report."""
    if kind not in KINDS:
        raise NotFound("unknown_import_kind", f"no import {kind!r}; one of {', '.join(KINDS)}")
    service.scopes.gate(actor, IMPORTS[kind])
    content = _read(file, MAX_SHEET_BYTES)
    if content is None:
        raise TooLarge("import_too_large", f"a sheet is at most {MAX_SHEET_BYTES} bytes")
    name = clean_name(file.filename, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    with tempfile.TemporaryDirectory(prefix="trainrec-import-") as folder:
        # openpyxl reads a workbook by its extension; the importer goes by the bytes' magic
        path = FilePath(folder) / ("sheet.xlsx" if content.startswith(XLSX_MAGIC) else "sheet.csv")
        path.write_bytes(content)
        # a file that cannot be imported is an ImportFileError: a 422 with its code, nothing recorded
        report = import_file(service, kind, path, actor, max_rows=MAX_SHEET_ROWS, file_name=name)
    if answer_format == "xlsx" or (answer_format is None and accept is not None and XLSX_MEDIA_TYPE in accept):
        stem = name.rsplit(".", 1)[0] or "sheet"
        return Response(report_workbook(report), media_type=XLSX_MEDIA_TYPE,
                        headers={"Content-Disposition": _disposition(f"{stem}-导入结果.xlsx", "import-report.xlsx")})
    return JSONResponse(report.as_json())


@router.post("/evidence", response_model=dict[str, Any])
def keep_evidence(
    actor: CurrentActor,
    service: Service,
    file: Annotated[UploadFile, File(description="PDF, PNG, JPEG, DOCX or XLSX, at most 10 MiB")],
    sha256: Annotated[str | None, Form(max_length=128, description="the sha256 the sender computed")] = None,
) -> JSONResponse:
    """Keep an evidence file by its sha256: 201 when new, 200 when the same bytes were kept before."""
    content = _read(file, MAX_EVIDENCE_BYTES)
    if content is None:
        raise TooLarge("evidence_too_large", f"an evidence file is at most {MAX_EVIDENCE_BYTES} bytes")
    kept = service.keep_evidence(actor, file.filename, content, sha256)
    body = {"sha256": kept.file.sha256, "name": kept.file.name, "size": kept.file.size,
            "media_type": kept.file.media_type}
    return JSONResponse(body, status_code=201 if kept.new else 200)


@router.get("/evidence/{sha256}")
def evidence(sha256: Annotated[str, Path(min_length=1, max_length=128)], actor: CurrentActor,
             service: Service) -> Response:
    """A kept file, to those whose scope covers a record citing it (and its uploader)."""
    file = service.evidence_file(actor, sha256)
    fallback = f"evidence-{file.sha256[:12]}{MEDIA_TYPES[file.media_type]}"
    return Response(file.content, media_type=file.media_type,
                    headers={"Content-Disposition": _disposition(file.name, fallback),
                             "X-Content-Type-Options": "nosniff", "ETag": f'"{file.sha256}"'})


def _disposition(name: str, fallback: str) -> str:
    """An attachment named `name` (RFC 6266/5987: UTF-8, percent-encoded) with an ASCII fallback."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
