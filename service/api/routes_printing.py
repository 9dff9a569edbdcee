"""Printed records: the transcript as a PDF, hours certificates (issue one, fetch its PDF)."""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from service.api.deps import CurrentActor, IdempotencyKey, Service, write
from service.api.schemas import CertificateIn
from service.application.values import as_of_instant

router = APIRouter(prefix="/api/v1", tags=["printed records"])

TeacherNoPath = Annotated[str, Path(min_length=1, max_length=32)]
CertificateNo = Annotated[str, Path(min_length=1, max_length=64)]
PUBLIC_URL = "TRAINREC_PUBLIC_URL"


def public_base(request: Request) -> str:
    """The address the QR codes point at: `TRAINREC_PUBLIC_URL` (behind a proxy), else this request's."""
    return (os.environ.get(PUBLIC_URL) or str(request.base_url)).rstrip("/")


def pdf(body: bytes, filename: str) -> Response:
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"})


@router.get("/teachers/{teacher_no}/transcript.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def transcript_pdf(
    teacher_no: TeacherNoPath,
    request: Request,
    actor: CurrentActor,
    service: Service,
    as_of: Annotated[str | None, Query(max_length=64, description="as for the transcript: an instant with "
                                       "offset or a date (the end of that day, Asia/Shanghai)")] = None,
) -> Response:
    instant = None if as_of is None else as_of_instant(as_of, service.policy.zone)
    body, number = service.transcript_pdf(actor, teacher_no, instant, public_base(request))
    return pdf(body, f"transcript-{number}.pdf")


@router.post("/teachers/{teacher_no}/certificates", status_code=201)
async def issue_certificate(
    teacher_no: TeacherNoPath, body: CertificateIn, actor: CurrentActor, service: Service, key: IdempotencyKey
) -> JSONResponse:
    return await write(service, lambda: service.issue_certificate(
        actor, teacher_no, body.year, body.programme_code, body.purpose, idempotency_key=key))


@router.get("/certificates/{certificate_no}.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def certificate_pdf(certificate_no: CertificateNo, request: Request, actor: CurrentActor, service: Service
                    ) -> Response:
    return pdf(service.certificate_pdf(actor, certificate_no, public_base(request)), f"{certificate_no}.pdf")
