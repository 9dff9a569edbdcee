"""A teacher's own pages, made for a phone: the transcript (hours of a programme not yet evaluated
show as 待评价, as `transcript` gives them to the trainee), the catalogue of programmes open to
self-enrolment (自主选课), the evaluation form, and the teacher's disputes with a form to open one,
evidence files uploaded with it (kept as `POST /api/v1/evidence` keeps them, cited by sha256)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from domain.errors import Conflict, DomainError, Forbidden, Invalid
from domain.vocabulary import Role
from service.api.deps import Caller, Service
from service.api.problems import STATUS_OF_KIND
from service.app import TrainRec
from service.commands.evidence import MAX_EVIDENCE_BYTES, MEDIA_TYPES, TooLarge
from service.labels import CODES
from service.pages.auth import PageCaller
from service.pages.render import page
from service.pages.routes_certificates import certificate_choices, may_issue

router = APIRouter(include_in_schema=False)

PAGE = 50
MAX_FILES = 5
"""Evidence files one dispute form takes (each at most MAX_EVIDENCE_BYTES)."""
SCORES = ((1, "很不满意"), (2, "不满意"), (3, "一般"), (4, "满意"), (5, "很满意"))
QUESTIONS = (("form", "培训形式"), ("instructors", "授课教师"), ("management", "组织管理"))
ACCEPT = ",".join(sorted({*MEDIA_TYPES, *MEDIA_TYPES.values(), ".jpeg"}))


def own_number(caller: Caller) -> str:
    """The teacher number of the signed-in teacher; these pages are no one else's."""
    actor = caller.actor
    if actor.role is not Role.TEACHER or not actor.teacher_no:
        raise Forbidden("forbidden_scope", "these pages are a teacher's own")
    return actor.teacher_no


def _back(path: str, *, done: str | None = None, error: str | None = None) -> RedirectResponse:
    query = f"?done={quote(done)}" if done else f"?error={quote(error or 'error')}"
    return RedirectResponse(path + query, status_code=303)


def enrolments(service: TrainRec, caller: Caller, teacher_no: str) -> dict[str, dict[str, Any]]:
    """The teacher's enrolments now, by code (withdrawn ones gone), each with the programme's facts
    as recorded at enrolment and whether the teacher evaluated it, from the teacher's own history."""
    found: dict[str, dict[str, Any]] = {}
    for line in service.teacher_history(caller.actor, teacher_no):
        data = line["data"]
        if line["type"] == "Enrolled":
            programme = dict(data.get("programme") or {})
            if programme.get("code"):
                found[str(programme["code"])] = {**programme, "evaluated": False}
        elif line["type"] == "EnrolmentWithdrawn":
            found.pop(str(data.get("programme_code")), None)
        elif line["type"] == "Evaluated" and data.get("programme_code") in found:
            found[str(data["programme_code"])]["evaluated"] = True
    return found


def _day(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


# --- the transcript ------------------------------------------------------------------------------
def _transcript_view(service: TrainRec, caller: Caller) -> dict[str, Any]:
    teacher_no = own_number(caller)
    transcript = service.transcript(caller.actor, teacher_no)
    mine = enrolments(service, caller, teacher_no)
    me = service.list_teachers(caller.actor, limit=1)["items"]
    school = me[0].get("school_name") if me else None
    today = service.policy.local_date(service.clock()).isoformat()
    pending = [{"code": code, "title": (mine.get(code) or {}).get("title") or code,
                "hours": (mine.get(code) or {}).get("hours")} for code in transcript["pending_evaluation"]]
    pending_codes = set(transcript["pending_evaluation"])
    # ended, not evaluated and not yet assessed: the form is open too (the hours are not yet awarded)
    to_evaluate = [{"code": code, "title": e.get("title") or code} for code, e in sorted(mine.items())
                   if not e["evaluated"] and code not in pending_codes and _day(e.get("ends_on")) <= today]
    cycle = transcript["totals"]["cycle"]
    required = float(cycle["required"]) or 1.0
    disputes = service.list_disputes(caller.actor, status="open", limit=PAGE)["items"]
    return {
        "transcript": transcript, "school_name": school or transcript["school_id"], "pending": pending,
        "to_evaluate": to_evaluate, "cycle": cycle, "cycle_met": float(cycle["hours"]) >= float(cycle["required"]),
        "cycle_width": round(min(1.0, float(cycle["hours"]) / required) * 100, 1),
        "years": [{"year": year, **totals} for year, totals in transcript["totals"]["by_year"].items()],
        "disputes": disputes, "may_certify": may_issue(caller), "certificate_choices": certificate_choices(transcript),
    }


@router.get("/me")
async def my_transcript(request: Request, caller: PageCaller, service: Service) -> HTMLResponse:
    view = await run_in_threadpool(_transcript_view, service, caller)
    return page(request, "me.html", caller, "我的培训档案", **view)


# --- the catalogue -------------------------------------------------------------------------------
@router.get("/catalogue")
async def catalogue(request: Request, caller: PageCaller, service: Service, q: str | None = None,
                    after: str | None = None) -> HTMLResponse:
    own_number(caller)
    found = await run_in_threadpool(lambda: service.list_programmes(
        caller.actor, open_for_enrolment=True, q=q or None, after=after, limit=PAGE))
    return page(request, "catalogue.html", caller, "选课", items=found["items"], next=found["next"], q=q or "")


@router.post("/catalogue/{code}/enrol")
async def enrol(request: Request, code: str, caller: PageCaller, service: Service) -> Response:
    teacher_no = own_number(caller)
    try:
        await run_in_threadpool(service.enrol, caller.actor, code, teacher_no)
    except DomainError as refused:
        return _back("/catalogue", error=refused.code)
    return _back("/catalogue", done="enrolled")


# --- the evaluation ------------------------------------------------------------------------------
def _enrolment(service: TrainRec, caller: Caller, code: str) -> dict[str, Any]:
    mine = enrolments(service, caller, own_number(caller))
    if code not in mine:
        raise Conflict("not_enrolled", f"you are not enrolled in {code}")
    return mine[code]


@router.get("/me/evaluations/{code}")
async def evaluation_form(request: Request, code: str, caller: PageCaller, service: Service) -> HTMLResponse:
    programme = await run_in_threadpool(_enrolment, service, caller, code)
    return page(request, "evaluation.html", caller, f"评价：{programme.get('title') or code}", programme=programme,
                code=code, scores=SCORES, questions=QUESTIONS)


def _score(value: str) -> int:
    if value not in ("1", "2", "3", "4", "5"):
        raise Invalid("invalid_score", "a score is a whole number from 1 to 5")
    return int(value)


@router.post("/me/evaluations/{code}")
async def evaluate(request: Request, code: str, caller: PageCaller, service: Service) -> Response:
    teacher_no = own_number(caller)
    # the form is read here, after PageCaller checked its csrf_token (that check reads the body
    # first; FastAPI's Form parameters would read it before the dependency and leave it none)
    form = await request.form()
    comment = str(form.get("comment") or "").strip() or None
    try:
        given, teachers, running = (_score(str(form.get(name) or "")) for name, _ in QUESTIONS)
        await run_in_threadpool(service.evaluate, caller.actor, code, teacher_no, given, teachers, running, comment)
    except DomainError as refused:
        return _back(f"/me/evaluations/{quote(code, safe='')}", error=refused.code)
    return _back("/me", done="evaluated")


# --- disputes ------------------------------------------------------------------------------------
@router.get("/me/disputes")
async def my_disputes(request: Request, caller: PageCaller, service: Service, after: str | None = None
                      ) -> HTMLResponse:
    own_number(caller)
    found = await run_in_threadpool(lambda: service.list_disputes(caller.actor, after=after, limit=PAGE))
    return page(request, "my_disputes.html", caller, "我的申诉", items=found["items"], next=found["next"])


def _dispute_form(request: Request, caller: Caller, programmes: dict[str, dict[str, Any]], *, status: int = 200,
                  chosen: str = "", claim: str = "", error: str | None = None) -> HTMLResponse:
    return page(request, "dispute_new.html", caller, "提出申诉", status=status, programmes=programmes,
                chosen=chosen or request.query_params.get("code", ""), claim=claim, accept=ACCEPT,
                max_files=MAX_FILES, **({"error": error} if error else {}))


@router.get("/disputes/new")
async def new_dispute(request: Request, caller: PageCaller, service: Service) -> HTMLResponse:
    teacher_no = own_number(caller)
    programmes = await run_in_threadpool(enrolments, service, caller, teacher_no)
    return _dispute_form(request, caller, programmes)


def _files(form: Any) -> list[UploadFile]:
    """The evidence files chosen (a file input left empty sends a part with no name and no bytes)."""
    return [f for f in form.getlist("evidence") if isinstance(f, UploadFile) and (f.filename or f.size)]


def _open_dispute(service: TrainRec, caller: Caller, teacher_no: str, code: str, claim: str,
                  files: list[UploadFile]) -> None:
    if not claim.strip():
        raise Invalid("claim_required", "a dispute states its claim")
    if len(files) > MAX_FILES:
        raise Invalid("invalid_evidence", f"at most {MAX_FILES} evidence files")
    evidence = []
    for file in files:
        content = file.file.read(MAX_EVIDENCE_BYTES + 1)
        if len(content) > MAX_EVIDENCE_BYTES:
            raise TooLarge("evidence_too_large", f"an evidence file is at most {MAX_EVIDENCE_BYTES} bytes")
        kept = service.keep_evidence(caller.actor, file.filename, content)
        evidence.append({"name": kept.file.name, "sha256": kept.file.sha256})
    service.open_dispute(caller.actor, teacher_no, code, claim, evidence)


@router.post("/disputes/new")
async def open_dispute(request: Request, caller: PageCaller, service: Service) -> Response:
    """Keep each evidence file, then open the dispute citing them; on a refusal the form again, with
    the claim as written (the files are chosen again)."""
    teacher_no = own_number(caller)
    form = await request.form()  # multipart: parsed once (the CSRF check read the same form)
    code = str(form.get("programme_code") or "")
    claim = str(form.get("claim") or "")
    programmes = await run_in_threadpool(enrolments, service, caller, teacher_no)
    try:
        if code not in programmes:
            raise Conflict("not_enrolled", f"you are not enrolled in {code or 'a programme'}")
        await run_in_threadpool(_open_dispute, service, caller, teacher_no, code, claim, _files(form))
    except DomainError as refused:
        return _dispute_form(request, caller, programmes, status=STATUS_OF_KIND.get(refused.kind, 409),
                             chosen=code, claim=claim, error=CODES.get(refused.code, "请求未能完成。"))
    return _back("/me/disputes", done="dispute_opened")
