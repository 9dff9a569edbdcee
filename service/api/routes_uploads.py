"""Uploads: sheets imported through the same rows and rules as `trainrec import`, and evidence files
kept by their sha256 (multipart/form-data, field `file`)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Header, Path, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from service.api.deps import CurrentActor, Service
from service.commands.evidence import MAX_EVIDENCE_BYTES, MEDIA_TYPES, TooLarge
from service.importing.importer import ImportReport
from service.importing.report_sheet import XLSX_MEDIA_TYPE, report_workbook
from service.importing.upload import ensure_import_allowed, import_upload, report_file_name

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
    "/imports": (MAX_SHEET_BYTES + MULTIPART_OVERHEAD, "import_too_large"),  # the upload page
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
    ensure_import_allowed(service, actor, kind)
    content = _read(file, MAX_SHEET_BYTES)
    if content is None:
        raise TooLarge("import_too_large", f"a sheet is at most {MAX_SHEET_BYTES} bytes")
    # a file that cannot be imported is an ImportFileError: a 422 with its code, nothing recorded
    report, name = import_upload(service, actor, kind, content, file.filename, MAX_SHEET_ROWS)
    if answer_format == "xlsx" or (answer_format is None and accept is not None and XLSX_MEDIA_TYPE in accept):
        return xlsx_report(report, name)
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


def xlsx_report(report: ImportReport, name: str) -> Response:
    """The report of the import of the sheet `name` as a workbook, an attachment."""
    return Response(report_workbook(report), media_type=XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": _disposition(report_file_name(name), "import-report.xlsx")})


def _disposition(name: str, fallback: str) -> str:
    """An attachment named `name` (RFC 6266/5987: UTF-8, percent-encoded) with an ASCII fallback."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
