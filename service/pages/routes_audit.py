"""The auditor's pages: a teacher's history as a timeline with both times of each fact, the
transcript as it stood at a chosen date, the audit feed with its filters, and the store's
verification. Each calls the API's own service method with the signed-in actor (the same scopes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from domain.actor import Actor
from domain.errors import DomainError, Invalid
from service.api.deps import Service
from service.app import TrainRec
from service.application.values import as_of_instant
from service.labels import EVENT_TYPES
from service.pages.auth import PageCaller
from service.pages.describe import describe
from service.pages.render import page
from service.queries.audit import EVENT_TYPES as FEED_TYPES

router = APIRouter(include_in_schema=False)

PAGE = 100
# The verifier's reasons (service/queries/verify.py) in Chinese, by how they begin.
BROKEN_REASONS = (
    ("unknown topic", "事件类型无法识别"),
    ("stored state does not decode", "存储内容无法解码"),
    ("stored state is not an object", "存储内容格式错误"),
    ("stored state does not re-encode", "存储内容无法重新编码"),
    ("stored bytes differ", "存储的字节与其内容不一致（可能被改动）"),
    ("prev_hash does not link", "与该记录上一事件的哈希链接断开"),
    ("content cannot be canonicalised", "内容无法规范化"),
    ("content does not match its chain hash", "内容与其链哈希不符（可能被改动）"),
    ("version", "事件版本号不连续（可能有事件被删除或插入）"),
)


def broken_reason(reason: str) -> str:
    for start, words in BROKEN_REASONS:
        if reason.startswith(start):
            return words
    return "校验未通过"


def schools(service: TrainRec, actor: Actor, teacher_no: str) -> dict[str, str]:
    """The name of the teacher's school now, by its id ({} when the lists cannot say: a departed
    teacher, or a caller the teachers list refuses), to show a name beside the id."""
    try:
        found = service.list_teachers(actor, q=teacher_no, limit=50)
    except DomainError:
        return {}
    return {t["school_id"]: t["school_name"] for t in found["items"]
            if t["teacher_no"] == teacher_no and t.get("school_id") and t.get("school_name")}


def current_name(events: list[dict[str, Any]]) -> str:
    """The teacher's name as the history last recorded it (registered, then corrected)."""
    name = ""
    for event in events:
        if event["type"] in ("Registered", "Corrected") and event["data"].get("name"):
            name = str(event["data"]["name"])
    return name


def timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**event, "words": describe(event["type"], event["data"])} for event in events]


@router.get("/teachers/{teacher_no}/history")
def history_page(request: Request, teacher_no: str, caller: PageCaller, service: Service) -> HTMLResponse:
    events = service.teacher_history(caller.actor, teacher_no)
    name = current_name(events)
    return page(request, "history.html", caller, f"{name or teacher_no} 的档案记录", teacher_no=teacher_no,
                name=name, school_names=schools(service, caller.actor, teacher_no),
                events=timeline(list(reversed(events))),
                late=sum(1 for e in events if e["late_entry"]))


@router.get("/teachers/{teacher_no}/transcript")
def transcript_page(request: Request, teacher_no: str, caller: PageCaller, service: Service,
                    as_of: Annotated[str | None, Query(max_length=64)] = None) -> HTMLResponse:
    asked = (as_of or "").strip() or None
    instant = None if asked is None else as_of_instant(asked, service.policy.zone)
    transcript = service.transcript(caller.actor, teacher_no, instant)
    years = sorted(transcript["totals"]["by_year"].items(), key=lambda item: item[0], reverse=True)
    title = f"{transcript.get('name') or teacher_no} 的学时档案" + (f"（截至 {asked}）" if asked else "")
    return page(request, "transcript.html", caller, title, teacher_no=teacher_no, t=transcript, as_of=asked or "",
                years=years, today=service.policy.local_date(service.clock()).isoformat(),
                school_names=schools(service, caller.actor, teacher_no))


def _day(text: str | None, name: str) -> date | None:
    if not text or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("invalid_instant", f"{name} is a date (YYYY-MM-DD)") from None


@router.get("/audit")
async def audit_page(
    request: Request, caller: PageCaller, service: Service,
    teacher_no: Annotated[str | None, Query(max_length=32)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    type_: Annotated[str | None, Query(alias="type", max_length=100)] = None,
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
    late_entry: Annotated[str | None, Query(max_length=5)] = None,
    after: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """The audit feed, 100 events a page in recorded order, filtered as the API's feed is."""
    zone = service.policy.zone
    filters = {"teacher_no": (teacher_no or "").strip(), "actor": (actor or "").strip(), "type": type_ or "",
               "since": (since or "").strip(), "until": (until or "").strip(),
               "late_entry": "1" if late_entry in ("1", "true", "on") else ""}
    since_day, until_day = _day(since, "since"), _day(until, "until")
    start = None if since_day is None else datetime.combine(since_day, time(0), tzinfo=zone)
    end = None if until_day is None else as_of_instant(until_day.isoformat(), zone, "until")
    feed = await run_in_threadpool(lambda: service.audit_events(
        caller.actor, teacher_no=filters["teacher_no"] or None, actor_sub=filters["actor"] or None,
        event_type=filters["type"] or None, since=start, until=end, after=after or None, limit=PAGE,
        late_entry=True if filters["late_entry"] else None))
    kept = {k: v for k, v in filters.items() if v}
    more = f"/audit?{urlencode({**kept, 'after': feed['next']})}" if feed["next"] else None
    types = [(code, words) for code, words in EVENT_TYPES.items() if code in FEED_TYPES]
    return page(request, "audit.html", caller, "审计记录", events=timeline(feed["events"]), filters=filters,
                types=types, more=more, first=f"/audit?{urlencode(kept)}" if after else None,
                can_verify=_can_verify(caller.actor.role.value))


def _can_verify(role: str) -> bool:
    return role in ("admin", "auditor")


@router.post("/audit/verify")
async def verify_page(request: Request, caller: PageCaller, service: Service) -> HTMLResponse:
    """Checks the store's hash chains (as `GET /api/v1/audit/verify`) and shows the outcome."""
    full = bool((await request.form()).get("full"))  # read after PageCaller checked the csrf_token
    result = await run_in_threadpool(lambda: service.verify(caller.actor, full=full))
    broken = result.first_broken
    verification: Mapping[str, Any] = {
        "ok": result.ok, "checked": result.checked_events, "full": result.full,
        "from_position": result.from_position, "to_position": result.to_position,
        "broken": None if broken is None else {**broken.as_dict(), "words": broken_reason(broken.reason)},
    }
    return page(request, "audit_verify.html", caller, "校验记录", verification=verification)
