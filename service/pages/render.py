"""Rendering the pages: one Jinja2 environment over `templates/`, autoescaped, with the filters the
templates share (Chinese labels, Asia/Shanghai times, hours and shares as people read them), and the
menu of each role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from domain.actor import Actor
from domain.rules.late_entry import SHANGHAI
from domain.vocabulary import Role
from service.labels import CODES, label

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
# What a form's redirect may say (`?done=KEY`, `?error=CODE`): fixed texts only, so a link cannot
# put words of its own on a page.
NOTICES = {
    "signed_out": "已退出。",
    "enrolled": "已报名。",
    "withdrawn": "已退选。",
    "absence_requested": "缺席申请已提交。",
    "decided": "已审批。",
    "attendance": "考勤已记录。",
    "assessed": "考核已记录。",
    "evaluated": "评价已提交，谢谢。",
    "credited": "学时已认定。",
    "dispute_opened": "申诉已提交。",
    "resolved": "申诉已处理。",
}
AVERAGES = frozenset({"avg_hours_per_teacher", "avg_self_selected_hours"})
COUNTS = frozenset({"overdue_assessments", "overdue_evaluations"})


def local_time(value: str | datetime | None) -> str:
    """An instant as a clock in Asia/Shanghai reads it: 2025-03-01 09:30."""
    if value is None or value == "":
        return ""
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if instant.tzinfo is None:
        return instant.strftime("%Y-%m-%d %H:%M")
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def hours(value: Any) -> str:
    """Hours as a person writes them: 12, 12.5 (one decimal at most)."""
    if value is None or value == "":
        return ""
    number = float(value)
    return f"{number:.0f}" if number == int(number) else f"{number:.1f}"


def figure_value(rule: str, value: Any) -> str:
    """A compliance figure as read: averages in hours, shares in per cent, overdue as a count."""
    if value is None:
        return "—"
    if rule in AVERAGES:
        return f"{hours(value)} 学时"
    if rule in COUNTS:
        return f"{int(value)} 人次"
    return f"{float(value) * 100:.1f}%"


def figure_threshold(rule: str, threshold: Any) -> str:
    if rule in AVERAGES:
        return f"≥ {hours(threshold)} 学时"
    if rule in COUNTS:
        return "应为 0"
    return f"≥ {float(threshold) * 100:.0f}%"


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["label"] = lambda value, kind: label(kind, None if value is None else str(value))
    env.filters["local_time"] = local_time
    env.filters["hours"] = hours
    env.filters["figure_value"] = figure_value
    env.filters["figure_threshold"] = figure_threshold
    env.filters["day"] = lambda value: value.isoformat() if isinstance(value, date) else str(value or "")
    return env


ENVIRONMENT = _environment()


@dataclass(frozen=True)
class MenuItem:
    href: str
    text: str
    here: bool = False


def menu(actor: Actor, path: str) -> list[MenuItem]:
    """The links of a role's pages, the one at `path` marked."""
    role = actor.role
    items: list[tuple[str, str]] = []
    if role is Role.TEACHER:
        items = [("/me", "我的档案"), ("/catalogue", "选课"), ("/me/disputes", "我的申诉")]
    elif role is Role.PROVIDER:
        items = [("/programmes", "我的项目"), ("/approvals", "待审批"), ("/imports", "上传表格")]
    else:
        unit = actor.org_id or ""
        items = [(f"/units/{unit}" if unit else "/units", "达标情况"), ("/teachers", "教师"),
                 ("/programmes", "培训项目")]
        if role in (Role.SUPERVISOR, Role.SCHOOL_ADMIN, Role.ADMIN):
            items.append(("/approvals", "待审批"))
        if role in (Role.SUPERVISOR, Role.ADMIN):
            items.append(("/disputes", "申诉处理"))
        if role is Role.SCHOOL_ADMIN:
            items.append(("/imports", "上传表格"))
        if role in (Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN):  # a supervisor reads its subtree's feed
            items.append(("/audit", "审计"))
    within = [href for href, _ in items if path == href or path.startswith(href + "/")]
    here = max(within, key=len) if within else None  # /me/disputes is 我的申诉, not 我的档案 too
    return [MenuItem(href, text, href == here) for href, text in items]


def page(request: Request, template: str, caller: Any, title: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page `template` for `caller` (None on the sign-in page), with the notice or error the
    request's query names after a form's redirect (`?done=`, `?error=`: fixed texts only)."""
    done, code = request.query_params.get("done"), request.query_params.get("error")
    values = {
        "caller": caller,
        "menu": menu(caller.actor, request.url.path) if caller is not None else [],
        "title": title,
        "notice": context.pop("notice", None) or (NOTICES.get(done) if done else None),
        "error": context.pop("error", None) or (CODES.get(code) if code else None),
        **context,
    }
    html = ENVIRONMENT.get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
