"""Gating (R6, docs/domain.md) as a property: before enrolling in a programme that starts in term T, every
programme the trainee was assessed in that ended in a term before T must be evaluated.

The expected answer is computed with an independent term function
(spring Feb 1 – Jul 31, autumn Aug 1 – Jan 31), not with Policy.term_of.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.actor import Actor
from domain.errors import DomainError
from domain.policy import DEFAULT_POLICY
from domain.programme import Programme
from domain.rules.enrolment import ensure_evaluations_done_before_new_term, evaluations_pending_before
from domain.rules.programme_definition import SessionPlan
from domain.teacher import Teacher
from domain.teacher_records import Enrolment
from domain.vocabulary import AssessmentResult, Form, Level, Role, Selection

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADMIN = Actor("admin", Role.ADMIN)

Past = tuple[date, bool, bool]  # (ends_on, assessed, evaluated)


def simple_term(day: date) -> tuple[int, int]:
    """(year the term began, 0 spring / 1 autumn): spring Feb 1 – Jul 31, autumn Aug 1 – Jan 31."""
    if day.month >= 8:
        return (day.year, 1)
    if day.month >= 2:
        return (day.year, 0)
    return (day.year - 1, 1)


def expected_pending(past: list[Past], starts_on: date) -> list[str]:
    new_term = simple_term(starts_on)
    return sorted(
        f"P{i:02d}"
        for i, (ends_on, assessed, evaluated) in enumerate(past)
        if assessed and not evaluated and simple_term(ends_on) < new_term
    )


def enrolment(code: str, ends_on: date, assessed: bool, evaluated: bool) -> Enrolment:
    programme = {
        "code": code, "title": code, "level": "county", "form": "concentrated", "selection": "self_selected",
        "school_based_content": None, "hours": Decimal(8), "provider_id": "P1", "owner_org_id": "C1",
        "starts_on": ends_on, "ends_on": ends_on, "session_nos": [1],
    }
    return Enrolment(
        programme=programme,
        enrolled_at=datetime(2021, 1, 1, tzinfo=UTC),
        event_id=f"e-{code}",
        substitutes_for=None,
        assessment={"result": "pass", "event_id": f"a-{code}"} if assessed else None,
        evaluation={"form": 5, "event_id": f"v-{code}"} if evaluated else None,
    )


past_enrolments = st.lists(
    st.tuples(st.dates(date(2022, 1, 1), date(2025, 12, 31)), st.booleans(), st.booleans()), max_size=15
)
new_starts = st.dates(date(2022, 1, 1), date(2026, 12, 31))
any_dates = st.dates(date(2000, 1, 1), date(2099, 12, 31))


@given(past=past_enrolments, starts_on=new_starts)
def test_pending_evaluations_are_exactly_the_assessed_unevaluated_programmes_of_earlier_terms(
    past: list[Past], starts_on: date
) -> None:
    enrolments = [enrolment(f"P{i:02d}", *p) for i, p in enumerate(past)]
    assert evaluations_pending_before(enrolments, starts_on, DEFAULT_POLICY) == expected_pending(past, starts_on)


@given(past=past_enrolments, starts_on=new_starts)
def test_enrolment_is_refused_with_evaluation_pending_exactly_when_something_is_pending(
    past: list[Past], starts_on: date
) -> None:
    enrolments = [enrolment(f"P{i:02d}", *p) for i, p in enumerate(past)]
    expected = expected_pending(past, starts_on)
    programme = {"code": "NEW", "starts_on": starts_on}
    if expected:
        with pytest.raises(DomainError) as caught:
            ensure_evaluations_done_before_new_term(enrolments, programme, DEFAULT_POLICY)
        assert caught.value.code == "evaluation_pending"
        assert all(code in caught.value.detail for code in expected)
    else:
        ensure_evaluations_done_before_new_term(enrolments, programme, DEFAULT_POLICY)


@given(one=any_dates, two=any_dates)
def test_policy_terms_order_dates_as_the_simple_term_function_does(one: date, two: date) -> None:
    assert (DEFAULT_POLICY.term_of(one) < DEFAULT_POLICY.term_of(two)) == (simple_term(one) < simple_term(two))
    assert (DEFAULT_POLICY.term_of(one) == DEFAULT_POLICY.term_of(two)) == (simple_term(one) == simple_term(two))


# --- the same property through the Teacher aggregate ---------------------------------------------


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), SHANGHAI).astimezone(UTC)


def programme_facts(code: str, starts_on: date) -> dict[str, Any]:
    return Programme.define(
        code=code, title=code, level=Level.COUNTY, form=Form.CONCENTRATED, selection=Selection.SELF_SELECTED,
        school_based_content=None, hours=Decimal(8), provider_id="P1", owner_org_id="C1",
        starts_on=starts_on, ends_on=starts_on, sessions=[SessionPlan(1, starts_on, Decimal(8))],
        capacity=None, actor=ADMIN, now=at(date(2021, 12, 1)),
    ).facts()


@settings(max_examples=60, deadline=None)
@given(past=past_enrolments, starts_on=new_starts)
def test_the_teacher_aggregate_gates_enrolment_by_the_same_rule(past: list[Past], starts_on: date) -> None:
    teacher = Teacher.register("A001", "张伟", "S1", None, ADMIN, at(date(2021, 12, 1)))
    for i, (ends_on, _, _) in enumerate(past):  # enrol first: nothing is assessed yet, so nothing gates
        teacher.enrol(programme_facts(f"P{i:02d}", ends_on), DEFAULT_POLICY, ADMIN, at(date(2021, 12, 1)))
    for i, (ends_on, assessed, evaluated) in enumerate(past):
        code = f"P{i:02d}"
        if assessed:
            teacher.assess(code, 4, 4, AssessmentResult.PASS, DEFAULT_POLICY, ADMIN, at(ends_on + timedelta(days=1)))
        if evaluated:
            teacher.evaluate(code, 5, 5, 5, None, DEFAULT_POLICY, ADMIN, at(ends_on + timedelta(days=2)))
    before = len(teacher.pending_events)
    expected = expected_pending(past, starts_on)
    if expected:
        with pytest.raises(DomainError) as caught:
            teacher.enrol(programme_facts("NEW", starts_on), DEFAULT_POLICY, ADMIN, at(starts_on))
        assert caught.value.code == "evaluation_pending"
        assert len(teacher.pending_events) == before
    else:
        teacher.enrol(programme_facts("NEW", starts_on), DEFAULT_POLICY, ADMIN, at(starts_on))
        assert "NEW" in teacher.enrolments
