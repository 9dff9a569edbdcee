"""The disputes desk for supervisors and admins: the disputes of their teachers (open ones first
by default), one dispute with its evidence and the teacher's record beside it, and the resolution
form (upheld or rejected, a reason always, hours when upheld). A teacher asking for the desk is
sent to their own disputes (`/me/disputes`)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.errors import DomainError, Invalid, NotFound
from domain.vocabulary import DisputeDecision, Role
from service.api.deps import Service, write
from service.auth.scopes import Kind
from service.pages.auth import PageCaller
from service.pages.describe import describe
from service.pages.render import page
from service.pages.routes_audit import schools
from service.records import DisputeIndex

router = APIRouter(include_in_schema=False)

PAGE = 50
STATUSES = ("open", "resolved")
RESOLVERS = (Role.SUPERVISOR, Role.ADMIN)


@router.get("/disputes")
def disputes_page(request: Request, caller: PageCaller, service: Service,
                  status: Annotated[str | None, Query(max_length=16)] = "open",
                  after: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    if caller.actor.role is Role.TEACHER:
        return RedirectResponse("/me/disputes", status_code=303)
    wanted = status if status in STATUSES else None
    found = service.list_disputes(caller.actor, status=wanted, after=after or None, limit=PAGE)
    more = f"/disputes?{urlencode({'status': wanted or 'all', 'after': found['next']})}" if found["next"] else None
    return page(request, "disputes.html", caller, "申诉处理", items=found["items"], shown=wanted or "all",
                more=more)


def _dispute_events(events: list[dict[str, Any]], dispute_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    opened = next((e for e in events if e["type"] == "DisputeOpened" and e["data"].get("dispute_id") == dispute_id),
                  None)
    if opened is None:  # the index names the teacher, whose record must hold the dispute
        raise NotFound("dispute_not_found", f"no dispute {dispute_id}")
    resolved = next((e for e in events if e["type"] == "DisputeResolved"
                     and e["data"].get("dispute_id") == dispute_id), None)
    return opened, resolved


def _touches(event: dict[str, Any], code: str) -> bool:
    data = event["data"]
    programme = data.get("programme")
    return data.get("programme_code") == code or (isinstance(programme, dict) and programme.get("code") == code)


@router.get("/disputes/{dispute_id}")
def dispute_page(request: Request, dispute_id: str, caller: PageCaller, service: Service) -> HTMLResponse:
    """One dispute: the claim and its evidence, and beside it the teacher's transcript and what the
    record holds about the programme disputed (enrolment, attendance, assessment, credits)."""
    index = service.lookup(caller.actor, DisputeIndex, Kind.DISPUTE, dispute_id)
    teacher_no = index.teacher_no
    events = service.teacher_history(caller.actor, teacher_no)  # the scope of the teacher's record
    opened, resolved = _dispute_events(events, dispute_id)
    code = str(opened["data"].get("programme_code", ""))
    transcript = service.transcript(caller.actor, teacher_no)
    found = next((e["data"].get("programme") for e in events if e["type"] == "Enrolled" and _touches(e, code)), None)
    facts: dict[str, Any] = found if isinstance(found, dict) else {}
    lines = [line for line in transcript["lines"] if line["programme_code"] == code]
    credit_ids = {line["credit_id"] for line in lines}
    record = [{**e, "words": describe(e["type"], e["data"])} for e in events
              if e is not opened and (_touches(e, code) or e["data"].get("dispute_id") == dispute_id
                                      or e["data"].get("credit_id") in credit_ids)]
    return page(request, "dispute.html", caller, f"申诉 {dispute_id}", dispute_id=dispute_id, teacher_no=teacher_no,
                opened=opened, resolved=resolved, code=code, programme_title=facts.get("title") or "",
                programme_hours=facts.get("hours"), t=transcript, lines=lines,
                record=record, school_names=schools(service, caller.actor, teacher_no),
                can_resolve=resolved is None and caller.actor.role in RESOLVERS,
                evidence=[{"name": item.get("name") or item.get("sha256", "")[:12], "sha256": item.get("sha256", "")}
                          for item in opened["data"].get("evidence") or []])


def _hours(text: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise Invalid("invalid_hours", "award_hours is a number of hours") from None
    if not value.is_finite():
        raise Invalid("invalid_hours", "award_hours is a number of hours")
    return value


@router.post("/disputes/{dispute_id}/resolution")
async def resolve(request: Request, dispute_id: str, caller: PageCaller, service: Service) -> Response:
    back = f"/disputes/{quote(dispute_id, safe='')}"
    # read here, after PageCaller checked the csrf_token (that check reads the body first; Form
    # parameters would read it before the dependency and leave it none)
    form = await request.form()
    decision, reason = str(form.get("decision") or ""), str(form.get("reason") or "")
    award_hours = str(form.get("award_hours") or "")
    try:
        if decision not in (DisputeDecision.UPHELD.value, DisputeDecision.REJECTED.value):
            raise Invalid("invalid_input", "decision is upheld or rejected")
        hours = _hours(award_hours)
        await write(service, lambda: service.resolve_dispute(caller.actor, dispute_id, DisputeDecision(decision),
                                                             reason, hours))
    except DomainError as refused:
        if refused.code == "forbidden_scope":
            raise
        return RedirectResponse(f"{back}?error={quote(refused.code)}", status_code=303)
    return RedirectResponse(f"{back}?done=resolved", status_code=303)

