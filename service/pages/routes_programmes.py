"""Programmes: the list a caller reads (a provider's own; staff's within their scope, filtered), and
a programme's page: its definition, and for those who may read it its roster (names, schools,
attendance, assessments, evaluations, what is overdue, in red); for the provider (and those the API
lets do the provider's work) a form per held session to mark attendance (one sheet, one
transaction), a form per trainee to assess, and one to award hours. A teacher sees the definition
and whether they are enrolled: the service refuses them the roster."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.actor import Actor
from domain.errors import DomainError, Forbidden, Invalid
from domain.programme import Programme
from domain.vocabulary import AssessmentResult, Role
from service.api.deps import Service, write
from service.app import TrainRec
from service.application.unit import CommandResult
from service.auth.scopes import Kind
from service.labels import FORMS, LEVELS, RESULTS, SELECTIONS
from service.pages.auth import PageCaller
from service.pages.render import page

router = APIRouter(include_in_schema=False)

PAGE = 50
Code = Annotated[str, Path(min_length=1, max_length=64)]
SessionNo = Annotated[int, Path(ge=1, le=1000)]
MARK = "mark_"  # an attendance form's field per trainee: mark_<teacher_no> = present | absent


def _blank(value: str | None) -> str | None:
    """A field left empty in a GET form is no filter."""
    value = (value or "").strip()
    return value or None


def _year(value: str | None) -> int | None:
    value = _blank(value)
    if value is None:
        return None
    if not value.isdigit():
        raise Invalid("invalid_year", "year must be between 1990 and 2100")
    return int(value)


def _phase(starts_on: Any, ends_on: Any, today: date) -> str:
    starts, ends = date.fromisoformat(str(starts_on)), date.fromisoformat(str(ends_on))
    if today < starts:
        return "未开始"
    return "进行中" if today <= ends else "已结束"


@router.get("/programmes")
def programmes_page(request: Request, caller: PageCaller, service: Service, level: str | None = None,
                    form: str | None = None, selection: str | None = None, year: str | None = None,
                    q: str | None = None, after: str | None = None) -> HTMLResponse:
    """A provider's own programmes; every other role's programmes within its scope."""
    wanted = {"level": _blank(level), "form": _blank(form), "selection": _blank(selection), "year": _blank(year),
              "q": _blank(q)}
    found = service.list_programmes(caller.actor, level=wanted["level"], form=wanted["form"],
                                    selection=wanted["selection"], year=_year(year), q=wanted["q"],
                                    after=_blank(after), limit=PAGE)
    today = service.policy.local_date(service.clock())
    items = [{**item, "phase": _phase(item["starts_on"], item["ends_on"], today)} for item in found["items"]]
    kept = {name: value for name, value in wanted.items() if value is not None}
    next_link = f"/programmes?{urlencode({**kept, 'after': found['next']})}" if found["next"] else None
    title = "我的项目" if caller.actor.role is Role.PROVIDER else "培训项目"
    return page(request, "programmes.html", caller, title, items=items, wanted=wanted, next_link=next_link,
                levels=LEVELS, forms=FORMS, selections=SELECTIONS)


def _may_do_provider_work(service: TrainRec, actor: Actor, code: str) -> bool:
    """Whether the service would take the caller's attendance sheets, assessments and credits for
    this programme (its own rule, `ensure_programme_provider`): only then are the forms shown."""
    if actor.role in (Role.TEACHER, Role.AUDITOR):
        return False
    try:
        programme = service.lookup(actor, Programme, Kind.PROGRAMME, code)
        service.scopes.ensure_programme_provider(actor, programme)
    except Forbidden:
        return False
    return True


def _enrolled(service: TrainRec, actor: Actor, code: str) -> bool:
    """Whether the teacher signed in is enrolled in `code` (their own history says)."""
    if actor.teacher_no is None:
        return False
    enrolled = False
    for line in service.teacher_history(actor, actor.teacher_no):
        data = line["data"]
        named = data.get("programme_code") or (data.get("programme") or {}).get("code")
        if named != code:
            continue
        if line["type"] == "Enrolled":
            enrolled = True
        elif line["type"] == "EnrolmentWithdrawn":
            enrolled = False
    return enrolled


def _roster(service: TrainRec, actor: Actor, code: str) -> dict[str, Any] | None:
    """The roster, or None when the service refuses it to the caller (a teacher: not theirs to read)."""
    try:
        return service.roster(actor, code)
    except Forbidden:
        return None


@router.get("/programmes/{code}")
def programme_page(request: Request, code: Code, caller: PageCaller, service: Service) -> HTMLResponse:
    actor = caller.actor
    programme = service.programme(actor, code)
    roster = _roster(service, actor, code)
    today = service.policy.local_date(service.clock())
    may_work = roster is not None and _may_do_provider_work(service, actor, code)
    schools = [e["school_id"] for e in roster["enrolled"]] if roster else []
    names = service.org_names([programme["provider_id"], programme["owner_org_id"], *schools])
    trainees: list[dict[str, Any]] = []
    if roster is not None:
        overdue_a, overdue_e = set(roster["overdue_assessments"]), set(roster["overdue_evaluations"])
        for e in roster["enrolled"]:
            excused = e["absence"] is not None and e["absence"]["status"] == "approved"
            trainees.append({**e, "school_name": names.get(e["school_id"], e["school_id"]), "excused": excused,
                             "overdue_assessment": e["teacher_no"] in overdue_a,
                             "overdue_evaluation": e["teacher_no"] in overdue_e})
    by_no = {t["teacher_no"]: t for t in trainees}
    overdue = {"assessments": [by_no.get(no, {"teacher_no": no, "name": no}) for no in
                               (roster["overdue_assessments"] if roster else [])],
               "evaluations": [by_no.get(no, {"teacher_no": no, "name": no}) for no in
                               (roster["overdue_evaluations"] if roster else [])]}
    marks = service.roster_marks(actor, code) if may_work else {"attendance": {}, "credited": {}}
    sessions = [{**s, "held": s["on"] <= today, "marks": marks["attendance"].get(s["no"], {})}
                for s in programme["sessions"]]
    for trainee in trainees:
        trainee["credited"] = marks["credited"].get(trainee["teacher_no"])
    return page(request, "programme.html", caller, f"{programme['title']}（{code}）", programme=programme,
                roster=roster, trainees=trainees, overdue=overdue, sessions=sessions, may_work=may_work,
                enrolled=_enrolled(service, actor, code) if actor.role is Role.TEACHER else None,
                provider_name=names.get(programme["provider_id"], programme["provider_id"]),
                owner_name=names.get(programme["owner_org_id"], programme["owner_org_id"]),
                phase=_phase(programme["starts_on"], programme["ends_on"], today), results=RESULTS,
                ended=date.fromisoformat(str(programme["ends_on"])) < today)


def _back(code: str, done: str | None = None, error: str | None = None, anchor: str = "") -> RedirectResponse:
    query = f"?done={done}" if done else f"?error={quote(error or '')}"
    return RedirectResponse(f"/programmes/{quote(code, safe='')}{query}{anchor}", status_code=303)


def _late(value: str) -> str | None:
    return value.strip() or None


async def _command(service: TrainRec, code: str, done: str, anchor: str, command: Callable[[], CommandResult],
                   weight: int = 1) -> Response:
    """Run a form's command as the API runs its writes (`write`: group commit, heavy sheets aside),
    then back to the programme's page with what happened; a refusal for scope is the 403 page."""
    try:
        await write(service, command, weight=weight)
    except Forbidden:
        raise
    except DomainError as refused:
        return _back(code, error=refused.code, anchor=anchor)
    return _back(code, done=done, anchor=anchor)


@router.post("/programmes/{code}/sessions/{no}/attendance")
async def attendance_form(request: Request, code: Code, no: SessionNo, caller: PageCaller,
                          service: Service) -> Response:
    """One session's sheet: each trainee marked present or absent, recorded in one transaction."""
    fields = await request.form()
    marks = [(str(k)[len(MARK):], v) for k, v in fields.multi_items() if str(k).startswith(MARK)]
    present = [teacher_no for teacher_no, mark in marks if mark == "present"]
    absent = [teacher_no for teacher_no, mark in marks if mark == "absent"]
    late = fields.get("late_reason")
    late_reason = _late(late) if isinstance(late, str) else None
    return await _command(service, code, "attendance", f"#session-{no}", lambda: service.record_attendance(
        caller.actor, code, no, present, absent, late_reason=late_reason), weight=len(marks))


@router.post("/programmes/{code}/assessments")
async def assessment_form(request: Request, code: Code, caller: PageCaller, service: Service) -> Response:
    """One trainee's assessment: attitude and assignments 1–5, and the result."""
    fields = await _fields(request, "teacher_no", "attitude", "assignments", "result", "late_reason")

    def command() -> CommandResult:
        if fields["result"] not in tuple(AssessmentResult):
            raise Invalid("invalid_input", "result is excellent, good, pass or fail")
        return service.assess(caller.actor, code, fields["teacher_no"], _score(fields["attitude"]),
                              _score(fields["assignments"]), AssessmentResult(fields["result"]),
                              late_reason=_late(fields["late_reason"]))

    return await _command(service, code, "assessed", "#assessments", command)


def _score(value: str) -> int:
    if not value.strip().isdigit():
        raise Invalid("invalid_score", "a score is a whole number from 1 to 5")
    return int(value)


@router.post("/programmes/{code}/credits")
async def credit_form(request: Request, code: Code, caller: PageCaller, service: Service) -> Response:
    """学时认定 for an assessed trainee: the hours to award (at most the programme's)."""
    fields = await _fields(request, "teacher_no", "hours", "late_reason")

    def command() -> CommandResult:
        try:
            amount = Decimal(fields["hours"].strip())
        except InvalidOperation:
            raise Invalid("invalid_hours", "hours is a number") from None
        return service.award_credit(caller.actor, code, fields["teacher_no"], amount,
                                    late_reason=_late(fields["late_reason"]))

    return await _command(service, code, "credited", "#credits", command)


async def _fields(request: Request, *names: str) -> dict[str, str]:
    """A form's text fields, read in the endpoint: its CSRF check (in `PageCaller`) reads the body
    first, which FastAPI's `Form()` parameters, parsed before the dependencies, would leave consumed."""
    form = await request.form()
    values = {name: form.get(name) for name in names}
    return {name: value if isinstance(value, str) else "" for name, value in values.items()}
