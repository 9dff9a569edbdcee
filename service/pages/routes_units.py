"""A unit's compliance for supervisors, auditors and school admins: the nine figures of a year
against their thresholds (met in green, short in red), a chart of each figure across the unit's
children, drill-down county → town → school, and at a school the teachers behind each shortfall."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from service.api.deps import Service
from service.labels import RULES
from service.pages.auth import PageCaller
from service.pages.render import AVERAGES, figure_value, page
from service.pages.unit_rows import chart_bars, children_rows, teacher_rows

router = APIRouter(include_in_schema=False)


def bars(rule: str, threshold: float, children: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One bar per child for `rule`: its width and the threshold's mark in per cent of the scale
    (shares: 0–100 %; averages: up to the largest value or the threshold; counts: up to the largest)."""
    values = [_value(child, rule) for child in children]
    if rule in AVERAGES or rule.startswith("overdue_"):
        scale = max([v for v in values if v is not None] + [threshold, 1e-9])
    else:
        scale = 1.0
    out = []
    for child, value in zip(children, values, strict=True):
        figure = next((f for f in child["figures"] if f["rule"] == rule), None)
        out.append({
            "org_id": child["org_id"], "name": child.get("name") or child["org_id"], "value": value,
            "met": bool(figure and figure["met"]),
            "width": 0 if value is None else round(min(1.0, value / scale) * 100, 1),
            "shown": figure_value(rule, value),
        })
    return out


def _value(child: dict[str, Any], rule: str) -> float | None:
    for figure in child["figures"]:
        if figure["rule"] == rule:
            return None if figure["value"] is None else float(figure["value"])
    return None


@router.get("/units/{org_id}")
async def unit_page(request: Request, org_id: str, caller: PageCaller, service: Service,
                    year: int | None = None) -> HTMLResponse:
    asked = year or service.policy.year_of(service.policy.local_date(service.clock()))
    report = await run_in_threadpool(service.compliance_summary, caller.actor, org_id, asked)
    children = report.get("children", [])
    threshold_of = {f["rule"]: float(f["threshold"]) for f in report["figures"]}
    charts = [{"rule": rule, "label": RULES[rule], "threshold": threshold_of[rule],
               "mark": _mark(rule, threshold_of[rule], children),
               "bars": bars(rule, threshold_of[rule], children)} for rule in RULES] if children else []
    shortfalls = [{"rule": s["rule"], "label": RULES.get(s["rule"], s["rule"]), "count": s["count"],
                   "teachers": s.get("teachers", []), "more": s.get("teachers_next") is not None}
                  for s in report.get("shortfalls", [])]
    schools = [t["school_id"] for s in shortfalls for t in s["teachers"]]
    school_names = await run_in_threadpool(service.org_names, schools)
    return page(request, "unit.html", caller, f"{report.get('name') or org_id} {asked} 年度达标情况",
                report=report, year=asked, years=list(range(asked - 4, asked + 2)), charts=charts,
                shortfalls=shortfalls, children=children, is_school=report.get("kind") == "school",
                school_names=school_names, children_rows=children_rows, chart_bars=chart_bars,
                teacher_rows=teacher_rows)


def _mark(rule: str, threshold: float, children: list[dict[str, Any]]) -> float:
    """Where the threshold sits on the chart's scale, in per cent."""
    if rule.startswith("overdue_"):
        return 0.0
    if rule in AVERAGES:
        values = [v for v in (_value(c, rule) for c in children) if v is not None]
        scale = max([*values, threshold, 1e-9])
        return round(threshold / scale * 100, 1)
    return round(threshold * 100, 1)


@router.get("/units/{org_id}/shortfalls")
async def shortfall_page(request: Request, org_id: str, caller: PageCaller, service: Service, rule: str,
                         year: int | None = None, after: str | None = None) -> HTMLResponse:
    """Every teacher behind one shortfall, 100 a page, with their names."""
    asked = year or service.policy.year_of(service.policy.local_date(service.clock()))
    found = await run_in_threadpool(lambda: service.compliance_shortfall(caller.actor, org_id, asked, rule,
                                                                         after=after, limit=PAGE))
    school_names = await run_in_threadpool(service.org_names, [t["school_id"] for t in found["items"]])
    return page(request, "shortfall.html", caller, f"{RULES.get(rule, rule)} 未达标教师", org_id=org_id,
                year=asked, rule=rule, items=found["items"], next=found["next"], school_names=school_names,
                teacher_rows=teacher_rows)


PAGE = 100
