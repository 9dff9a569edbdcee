"""One programme run from definition to evaluation in a single call, for tests whose figures are
computed by hand from the hours each teacher was awarded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal

from domain.vocabulary import AssessmentResult, Decision, Form, Level, SchoolBasedContent, Selection
from service.app import TrainRec
from tests.conftest import ADMIN, SHANGHAI, Clock, define, teacher_actor


def run_programme(
    app: TrainRec,
    clock: Clock,
    code: str,
    *,
    starts_on: date,
    days: int = 1,
    hours_per_day: int = 8,
    level: Level = Level.COUNTY,
    form: Form = Form.CONCENTRATED,
    selection: Selection = Selection.SELF_SELECTED,
    content: SchoolBasedContent | None = None,
    owner: str = "C1",
    provider: str = "P1",
    enrolled: Iterable[str] = (),
    absent: Iterable[str] = (),
    awards: Mapping[str, str] | None = None,
    evaluated: Iterable[str] | None = None,
) -> None:
    """Define `code` (`days` sessions of `hours_per_day` from `starts_on`; approved when school-based),
    enrol `enrolled` and every teacher of `awards`, mark the `absent` ones absent at every session and
    the others present, then the day after the end assess and credit each teacher of `awards` with
    the hours given, and two days after the end have each of `evaluated` (default: every awarded
    teacher) evaluate it. The clock (never moved back) is left two days after the end."""
    awards = awards or {}
    absent = list(absent)
    teachers = list(dict.fromkeys([*enrolled, *awards, *absent]))
    if clock.now.astimezone(SHANGHAI).date() < starts_on - timedelta(days=7):
        clock.set(starts_on - timedelta(days=7))  # the clock only moves forward
    define(app, code, starts_on=starts_on, days=days, hours_per_day=hours_per_day, level=level, form=form,
           selection=selection, content=content, provider_id=provider, owner_org_id=owner)
    if content is not None:
        app.decide_programme(ADMIN, code, Decision.APPROVED, "校本研修方案合格")
    for teacher_no in teachers:
        app.enrol(ADMIN, code, teacher_no)
    present = [t for t in teachers if t not in absent]
    for i in range(days):
        clock.set(starts_on + timedelta(days=i), hour=18)
        app.record_attendance(ADMIN, code, i + 1, present, absent)
    ends_on = starts_on + timedelta(days=days - 1)
    clock.set(ends_on + timedelta(days=1))
    for teacher_no, hours in awards.items():
        app.assess(ADMIN, code, teacher_no, 4, 4, AssessmentResult.PASS)
        app.award_credit(ADMIN, code, teacher_no, Decimal(hours))
    clock.set(ends_on + timedelta(days=2))
    for teacher_no in awards if evaluated is None else evaluated:
        app.evaluate(teacher_actor(teacher_no), code, teacher_no, 5, 4, 4)


def figures_of(answer: dict[str, object]) -> dict[str, dict[str, object]]:
    """An answer's figures by rule, each without its (repeated) rule name."""
    figures = answer["figures"]
    assert isinstance(figures, list)
    return {f["rule"]: {k: v for k, v in f.items() if k != "rule"} for f in figures}


def shortfalls_of(answer: dict[str, object]) -> dict[str, list[str]]:
    shortfalls = answer["shortfalls"]
    assert isinstance(shortfalls, list)
    return {s["rule"]: s["teacher_nos"] for s in shortfalls}
