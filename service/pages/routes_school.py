"""The school admin's pages (and the staff above it): the staff list with search, a teacher's page
(transcript, totals, enrolments, the forms to enrol them and to ask for an absence), what awaits
the caller's approval, and the sheet upload with its row report. Each calls the API's service
methods with the signed-in account's actor, so the scopes are the API's."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.errors import DomainError, Invalid
from domain.vocabulary import AbsenceKind, Approver, Decision, Role
from service.api import routes_uploads
from service.api.deps import Caller, Service, write
from service.api.problems import STATUS_OF_KIND
from service.commands.evidence import TooLarge
from service.importing.importer import KINDS, ImportReport
from service.importing.report_sheet import XLSX_MEDIA_TYPE, report_workbook
from service.importing.report_sheet import label as row_reason
from service.importing.upload import KIND_NAMES, ensure_import_allowed, import_upload, report_file_name
from service.labels import CODES
from service.pages.auth import PageCaller
from service.pages.render import page
from service.pages.routes_certificates import certificate_choices, may_issue

router = APIRouter(include_in_schema=False)

PAGE = 50
OPTIONS = 200  # programmes offered in the enrolment form, colleagues in the substitute's
ENROLMENT_STATES = {"enrolled": "已报名", "withdrawn": "已退选", "assessed": "已考核", "credited": "已认定学时",
                    "hidden": "评价后可见结果"}
ENROLLING = (Role.ADMIN, Role.SUPERVISOR, Role.SCHOOL_ADMIN, Role.TEACHER)

MAX_FIELD = 2000


async def _fields(request: Request, *names: str) -> dict[str, str]:
    """The text fields `names` of a posted form ("" when absent). The form is read here rather than
    by Form parameters: the CSRF check has already read the body, which FastAPI would read again."""
    form = await request.form()
    values = {}
    for name in names:
        value = form.get(name)
        text = value if isinstance(value, str) else ""
        if len(text) > MAX_FIELD:
            raise Invalid("invalid_input", f"{name} is at most {MAX_FIELD} characters")
        values[name] = text
    return values


def _back(path: str, *, done: str | None = None, error: str | None = None, anchor: str = "") -> RedirectResponse:
    query = urlencode({"done": done} if done else {"error": error or ""})
    return RedirectResponse(f"{path}?{query}{anchor}", status_code=303)


async def _run(service: Any, command: Any, path: str, done: str, anchor: str = "") -> RedirectResponse:
    """Run a write as the API does (`write`: group commit where the server has it), then back to
    `path` saying what happened, or the refusal's code."""
    try:
        await write(service, command)
    except DomainError as refused:
        return _back(path, error=refused.code, anchor=anchor)
    return _back(path, done=done, anchor=anchor)


# --- the staff list -----------------------------------------------------------------------------
@router.get("/teachers")
def teachers_page(request: Request, caller: PageCaller, service: Service, q: str | None = None,
                  status: str | None = None, after: str | None = None) -> HTMLResponse:
    found = service.list_teachers(caller.actor, q=q or None, status=status or None, after=after or None, limit=PAGE)
    following = None
    if found["next"]:
        following = "/teachers?" + urlencode({k: v for k, v in (("q", q), ("status", status), ("after", found["next"]))
                                              if v})
    return page(request, "teachers.html", caller, "教师", items=found["items"], q=q or "", wanted=status or "",
                next=following)


# --- a teacher's page ---------------------------------------------------------------------------
def enrolments_of(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The teacher's enrolments as their history tells them: each programme's state (enrolled,
    withdrawn, assessed, credited) and its absence, if one was asked for."""
    rows: dict[str, dict[str, Any]] = {}
    for line in history:
        kind, data = line["type"], line["data"]
        if kind == "Enrolled":
            programme = data.get("programme") or {}
            rows[programme.get("code", "")] = {
                "code": programme.get("code", ""), "title": programme.get("title", ""),
                "hours": programme.get("hours"), "starts_on": programme.get("starts_on", ""),
                "ends_on": programme.get("ends_on", ""), "enrolled_on": line["occurred_on"], "state": "enrolled",
                "absence": None, "evaluated": False}
            continue
        code = data.get("programme_code") or (data.get("programme") or {}).get("code")
        row = rows.get(code or "")
        if row is None:
            continue
        if data.get("hidden_until"):  # the trainee's own, before evaluating it (R6): no result yet
            row["state"] = "hidden"
        elif kind == "EnrolmentWithdrawn":
            row["state"] = "withdrawn"
        elif kind == "AbsenceRequested":
            row["absence"] = {"kind": data.get("kind"), "status": "pending",
                              "substitute": data.get("substitute_teacher_no"), "sides": {}}
        elif kind == "AbsenceDecided" and row["absence"] is not None:
            absence = row["absence"]
            absence["sides"][data.get("by")] = data.get("decision")
            if "rejected" in absence["sides"].values():
                absence["status"] = "rejected"
            elif len(absence["sides"]) == len(Approver):
                absence["status"] = "approved"
        elif kind == "Assessed" and row["state"] == "enrolled":
            row["state"] = "assessed"
        elif kind == "Evaluated":
            row["evaluated"] = True
        elif kind == "CreditAwarded":
            row["state"] = "credited"
    return list(rows.values())


def _listed(service: Any, caller: Caller, teacher_no: str) -> dict[str, Any] | None:
    """The teacher's row of the staff list (their school's name, their status)."""
    found = service.list_teachers(caller.actor, q=teacher_no, limit=PAGE)
    return next((item for item in found["items"] if item["teacher_no"] == teacher_no), None)


def _teacher_view(service: Any, caller: Caller, teacher_no: str) -> dict[str, Any]:
    actor = caller.actor
    transcript = service.transcript(actor, teacher_no)
    history = service.teacher_history(actor, teacher_no)
    listed = _listed(service, caller, teacher_no)
    school_id = transcript["school_id"]
    enrolments = enrolments_of(history)
    titles = {e["code"]: e["title"] for e in enrolments}
    departed = transcript.get("departure") is not None
    offered: list[dict[str, Any]] = []
    colleagues: list[dict[str, Any]] = []
    if actor.role in ENROLLING and not departed:
        taken = {e["code"] for e in enrolments if e["state"] != "withdrawn"}
        chain = set(service.org_chain(school_id))  # open to the teacher: owned at or above their school
        programmes = service.list_programmes(actor, open_for_enrolment=True, limit=OPTIONS)["items"]
        offered = [p for p in programmes if p["owner_org_id"] in chain and p["code"] not in taken]
        if actor.role is not Role.TEACHER:
            colleagues = [t for t in service.list_teachers(actor, org_id=school_id, status="active",
                                                           limit=OPTIONS)["items"] if t["teacher_no"] != teacher_no]
    open_now = [e for e in enrolments if e["state"] == "enrolled"
                and (e["absence"] is None or e["absence"]["status"] == "rejected")]
    years = sorted(transcript["totals"]["by_year"].items(), reverse=True)
    return {"t": transcript, "listed": listed, "school_name": (listed or {}).get("school_name") or school_id,
            "teacher_status": (listed or {}).get("status") or ("departed" if departed else "active"),
            "enrolments": enrolments, "titles": titles, "offered": offered, "colleagues": colleagues,
            "absence_for": open_now if actor.role in ENROLLING and not departed else [],
            "years": years, "cycle": transcript["totals"]["cycle"],
            "staff": actor.role is not Role.TEACHER, "absence_kinds": list(AbsenceKind),
            "may_certify": may_issue(caller), "certificate_choices": certificate_choices(transcript)}


@router.get("/teachers/{teacher_no}")
def teacher_page(request: Request, teacher_no: str, caller: PageCaller, service: Service) -> HTMLResponse:
    view = _teacher_view(service, caller, teacher_no)
    return page(request, "teacher.html", caller, f"{view['t']['name']}（{teacher_no}）", states=ENROLMENT_STATES,
                **view)


@router.post("/teachers/{teacher_no}/enrolments")
async def enrol_form(request: Request, teacher_no: str, caller: PageCaller, service: Service) -> RedirectResponse:
    code = (await _fields(request, "code"))["code"]
    return await _run(service, lambda: service.enrol(caller.actor, code, teacher_no),
                      f"/teachers/{quote(teacher_no)}", "enrolled", "#enrolments")


@router.post("/teachers/{teacher_no}/absences")
async def absence_form(request: Request, teacher_no: str, caller: PageCaller, service: Service) -> RedirectResponse:
    form = await _fields(request, "code", "kind", "reason", "substitute")
    code, kind, reason, substitute = form["code"], form["kind"], form["reason"], form["substitute"]
    path = f"/teachers/{quote(teacher_no)}"
    if kind not in tuple(AbsenceKind):
        return _back(path, error="invalid_input", anchor="#enrolments")
    chosen = AbsenceKind(kind)
    sub = (substitute.strip() or None) if chosen is AbsenceKind.SUBSTITUTION else None
    return await _run(service, lambda: service.request_absence(caller.actor, code, teacher_no, chosen, reason.strip(),
                                                               sub),
                      path, "absence_requested", "#enrolments")


# --- approvals ----------------------------------------------------------------------------------
@router.get("/approvals")
def approvals_page(request: Request, caller: PageCaller, service: Service, after: str | None = None) -> HTMLResponse:
    found = service.list_approvals(caller.actor, after=after or None, limit=PAGE)
    items = found["items"]
    return page(request, "approvals.html", caller, "待审批",
                absences=[i for i in items if i["kind"] == "absence"],
                programmes=[i for i in items if i["kind"] == "programme"],
                next="/approvals?" + urlencode({"after": found["next"]}) if found["next"] else None)


def _decision(value: str) -> Decision:
    if value not in (Decision.APPROVED.value, Decision.REJECTED.value):
        raise Invalid("invalid_input", "decision is approved or rejected")
    return Decision(value)


@router.post("/approvals/absence")
async def decide_absence_form(request: Request, caller: PageCaller, service: Service) -> RedirectResponse:
    form = await _fields(request, "code", "teacher_no", "by", "decision", "reason")
    code, teacher_no, by, decision, reason = (form[k] for k in ("code", "teacher_no", "by", "decision", "reason"))
    if by not in tuple(Approver):
        raise Invalid("invalid_input", "by is school or provider")
    side, chosen = Approver(by), _decision(decision)
    return await _run(service, lambda: service.decide_absence(caller.actor, code, teacher_no, side, chosen,
                                                              reason.strip()), "/approvals", "decided")


@router.post("/approvals/programme")
async def decide_programme_form(request: Request, caller: PageCaller, service: Service) -> RedirectResponse:
    form = await _fields(request, "code", "decision", "reason")
    code, decision, reason = form["code"], form["decision"], form["reason"]
    chosen = _decision(decision)
    return await _run(service, lambda: service.decide_programme(caller.actor, code, chosen, reason.strip()),
                      "/approvals", "decided")


# --- sheet upload -------------------------------------------------------------------------------
def _kinds(service: Any, caller: Caller) -> list[tuple[str, str]]:
    """The kinds of sheet the caller's role may import, with their Chinese names."""
    allowed = []
    for kind in KINDS:
        try:
            ensure_import_allowed(service, caller.actor, kind)
        except DomainError:
            continue
        allowed.append((kind, KIND_NAMES.get(kind, kind)))
    return allowed


def _rows(report: ImportReport) -> list[dict[str, Any]]:
    return [{"row": r.row, "outcome": ("已导入（此前）" if r.replayed else "已导入") if r.accepted else "拒绝",
             "accepted": r.accepted, "teacher_no": r.teacher_no or str(r.answer.get("teacher_no") or ""),
             "name": r.name,
             "reason": "" if r.accepted else row_reason(r.code, r.reason), "code": "" if r.accepted else r.code}
            for r in report.results]


@router.get("/imports")
def imports_page(request: Request, caller: PageCaller, service: Service) -> HTMLResponse:
    kinds = _kinds(service, caller)
    if not kinds:
        ensure_import_allowed(service, caller.actor, KINDS[0])  # refused: the role imports nothing
    return page(request, "imports.html", caller, "上传表格", kinds=kinds, chosen="", report=None, rows=[],
                file_name="")


@router.post("/imports")
def import_form(request: Request, caller: PageCaller, service: Service, kind: Annotated[str, Form(max_length=32)],
                file: Annotated[UploadFile, File()],
                answer_format: Annotated[str, Form(alias="format", max_length=8)] = "page") -> Response:
    kinds = _kinds(service, caller)
    try:
        ensure_import_allowed(service, caller.actor, kind)
        content = file.file.read(routes_uploads.MAX_SHEET_BYTES + 1)
        if len(content) > routes_uploads.MAX_SHEET_BYTES:
            raise TooLarge("import_too_large", f"a sheet is at most {routes_uploads.MAX_SHEET_BYTES} bytes")
        report, name = import_upload(service, caller.actor, kind, content, file.filename,
                                     routes_uploads.MAX_SHEET_ROWS)
    except DomainError as refused:
        return page(request, "imports.html", caller, "上传表格", status=STATUS_OF_KIND.get(refused.kind, 422),
                    kinds=kinds, chosen=kind, report=None, rows=[], file_name="", error=_refusal(refused))
    if answer_format == "xlsx":
        return routes_uploads.xlsx_report(report, name)
    # The report's workbook goes with the page (a link that saves it: no second upload, nothing kept on
    # the server); it is small beside the sheet it reports on.
    workbook = base64.b64encode(report_workbook(report)).decode()
    return page(request, "imports.html", caller, "上传表格", kinds=kinds, chosen=kind, report=report.as_json(),
                rows=_rows(report), file_name=name, kind_name=KIND_NAMES.get(kind, kind),
                report_href=f"data:{XLSX_MEDIA_TYPE};base64,{workbook}",
                report_name=report_file_name(name))


def _refusal(error: DomainError) -> str:
    return f"{CODES.get(error.code, '表格未能导入。')}（{error.code}）"
