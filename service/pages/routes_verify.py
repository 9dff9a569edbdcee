"""The public check of an hours certificate: `GET /verify/{certificate_no}`, no sign-in.

A page in Chinese (or JSON, for `Accept: application/json`) saying what the certificate certifies
with the least of the teacher's data (name masked, school, hours) and whether it still holds.
An unknown number is a 404 page (or problem+json), the same for every number not issued."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from domain.errors import NotFound
from service.api.deps import Service
from service.api.problems import problem
from service.pages.render import page

router = APIRouter(include_in_schema=False)

CertificateNo = Annotated[str, Path(min_length=1, max_length=64)]


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


@router.get("/verify/{certificate_no}", response_model=None)
def verify(certificate_no: CertificateNo, request: Request, service: Service) -> Response:
    try:
        found = service.certificate_check(certificate_no)
    except NotFound:
        detail = f"no certificate {certificate_no}"
        if wants_json(request):
            return problem(404, "certificate_not_found", detail)
        return page(request, "verify.html", None, "证书核验", status=404, c=None, certificate_no=certificate_no)
    if wants_json(request):
        return JSONResponse(found, headers={"Cache-Control": "no-store"})
    return page(request, "verify.html", None, "证书核验", c=found, certificate_no=certificate_no)
