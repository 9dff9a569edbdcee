"""开具学时证明 from a teacher's page: the form posts here (with its CSRF token); an issued certificate
answers with its PDF's address, a refusal goes back to the page that asked, saying why."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from domain.errors import DomainError
from domain.vocabulary import Role
from service.api.deps import Caller, Service, write
from service.pages.auth import PageCaller

router = APIRouter(include_in_schema=False)

ISSUERS = (Role.ADMIN, Role.SUPERVISOR, Role.SCHOOL_ADMIN, Role.TEACHER)


def certificate_choices(transcript: dict[str, Any]) -> list[dict[str, str]]:
    """What a certificate may be asked for from the page: each year with hours, newest first, then
    each programme with a valid credit (the command checks again)."""
    years = [{"value": f"year:{year}", "text": f"{year} 年度"}
             for year, total in sorted(transcript["totals"]["by_year"].items(), reverse=True) if total["hours"]]
    programmes = [{"value": f"programme:{line['programme_code']}",
                   "text": f"{line['title']}（{line['programme_code']}）"}
                  for line in transcript["lines"] if line["status"] == "valid"]
    return years + programmes


def may_issue(caller: Caller) -> bool:
    return caller.actor.role in ISSUERS


@router.post("/teachers/{teacher_no}/certificates")
async def issue_certificate_form(request: Request, teacher_no: str, caller: PageCaller, service: Service
                                 ) -> RedirectResponse:
    form = await request.form()
    subject = form.get("subject")
    purpose = form.get("purpose")
    kind, _, value = (subject if isinstance(subject, str) else "").partition(":")
    year = int(value) if kind == "year" and value.isdigit() and len(value) == 4 else None
    code = value if kind == "programme" and value else None
    back = "/me" if caller.actor.teacher_no == teacher_no else f"/teachers/{quote(teacher_no, safe='')}"
    try:
        answer = await write(service, lambda: service.issue_certificate(
            caller.actor, teacher_no, year, code, purpose if isinstance(purpose, str) else ""))
    except DomainError as refused:
        return RedirectResponse(f"{back}?{urlencode({'error': refused.code})}", status_code=303)
    number = json.loads(bytes(answer.body))["certificate_no"]
    return RedirectResponse(f"/api/v1/certificates/{quote(number, safe='')}.pdf", status_code=303)
