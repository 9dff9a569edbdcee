"""Defining a programme: code, title, hours, dates, sessions, school-based content, capacity, provider
(domain/programme.py, domain/rules/programme_definition.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import DomainError, NotFound
from domain.programme import Programme
from domain.rules.programme_definition import (
    SessionPlan,
    ensure_provider_kind,
    ensure_school_based_level,
    needs_approval,
)
from domain.vocabulary import Form, Level, OrgKind, SchoolBasedContent, Selection
from tests.domain.rules.builders import ADMIN, END, START, at, last_event, make_programme, refused


def test_a_well_formed_programme_is_defined_with_its_sessions_in_order() -> None:
    programme = Programme.define(
        code="P-1", title="  师德专题  ", level=Level.CITY, form=Form.CONCENTRATED, selection=Selection.MANDATED,
        school_based_content=None, hours=Decimal("12.5"), provider_id="P1", owner_org_id="C1",
        starts_on=START, ends_on=END,
        sessions=[SessionPlan(2, END, Decimal("4.5")), SessionPlan(1, START, Decimal(8))],
        capacity=30, actor=ADMIN, now=at(date(2024, 2, 1)),
    )
    assert programme.title == "师德专题"
    assert programme.hours == Decimal("12.5")
    assert [s["no"] for s in programme.sessions] == [1, 2]
    assert programme.facts()["session_nos"] == [1, 2]
    assert programme.decision is None
    assert last_event(programme).actor == ADMIN.as_record()


def define_with(**changes: Any) -> Programme:
    arguments: dict[str, Any] = {
        "code": "P-1", "title": "培训", "level": Level.COUNTY, "form": Form.CONCENTRATED,
        "selection": Selection.SELF_SELECTED, "school_based_content": None, "hours": Decimal(16),
        "provider_id": "P1", "owner_org_id": "C1", "starts_on": START, "ends_on": END,
        "sessions": [SessionPlan(1, START, Decimal(8)), SessionPlan(2, END, Decimal(8))],
        "capacity": None, "actor": ADMIN, "now": at(date(2024, 2, 1)),
    }
    arguments.update(changes)
    return Programme.define(**arguments)


def refused_definition(expected: str, **changes: Any) -> None:
    with pytest.raises(DomainError) as caught:
        define_with(**changes)
    assert caught.value.code == expected, caught.value.detail


@pytest.mark.parametrize("bad", ["", " P-1", "P/1", "P" * 65])
def test_a_programme_code_must_be_short_trimmed_and_slash_free(bad: str) -> None:
    refused_definition("invalid_code", code=bad)


def test_a_programme_code_of_64_characters_is_accepted() -> None:
    assert define_with(code="P" * 64).code == "P" * 64


@pytest.mark.parametrize("bad", ["", "   ", "题" * 201])
def test_a_programme_title_must_be_1_to_200_characters(bad: str) -> None:
    refused_definition("invalid_title", title=bad)


def test_programme_hours_must_be_valid() -> None:
    refused_definition("invalid_hours", hours=Decimal(0))


def test_session_hours_must_be_valid() -> None:
    refused_definition(
        "invalid_hours", sessions=[SessionPlan(1, START, Decimal("8.25")), SessionPlan(2, END, Decimal("7.75"))]
    )


def test_a_programme_may_start_and_end_on_the_same_day() -> None:
    programme = define_with(ends_on=START, hours=Decimal(8), sessions=[SessionPlan(1, START, Decimal(8))])
    assert programme.starts_on == programme.ends_on


def test_a_programme_ending_before_it_starts_has_invalid_dates() -> None:
    refused_definition("invalid_dates", starts_on=END, ends_on=START)


def test_a_programme_without_sessions_is_refused() -> None:
    refused_definition("sessions_required", sessions=[])


def test_session_numbers_must_be_unique() -> None:
    refused_definition(
        "duplicate_session", sessions=[SessionPlan(1, START, Decimal(8)), SessionPlan(1, END, Decimal(8))]
    )


def test_session_numbers_start_at_one() -> None:
    refused_definition("invalid_session", sessions=[SessionPlan(0, START, Decimal(8)), SessionPlan(1, END, Decimal(8))])


def test_sessions_on_the_first_and_last_day_are_within_the_programme() -> None:
    assert [s["on"] for s in define_with().sessions] == [START, END]


@pytest.mark.parametrize("day", [START - timedelta(days=1), END + timedelta(days=1)])
def test_a_session_outside_the_programme_dates_is_refused(day: date) -> None:
    refused_definition(
        "session_outside_programme", sessions=[SessionPlan(1, START, Decimal(8)), SessionPlan(2, day, Decimal(8))]
    )


@pytest.mark.parametrize("hours", [Decimal(15), Decimal(17), Decimal("16.5")])
def test_session_hours_must_add_up_to_the_programme_hours(hours: Decimal) -> None:
    refused_definition("session_hours_mismatch", hours=hours)


@pytest.mark.parametrize(
    ("selection", "form"),
    [(Selection.SCHOOL_BASED, Form.WORKSHOP), (Selection.MANDATED, Form.SCHOOL_BASED)],
)
def test_a_school_based_programme_must_name_its_content(selection: Selection, form: Form) -> None:
    refused_definition("school_based_content_required", selection=selection, form=form)


@pytest.mark.parametrize("content", [SchoolBasedContent.DESIGNATED, SchoolBasedContent.ELECTIVE])
def test_a_school_based_programme_with_content_is_defined(content: SchoolBasedContent) -> None:
    programme = define_with(
        level=Level.SCHOOL, form=Form.SCHOOL_BASED, selection=Selection.SCHOOL_BASED,
        school_based_content=content, owner_org_id="S1",
    )
    assert programme.school_based_content == content.value


def test_other_programmes_may_not_name_school_based_content() -> None:
    refused_definition("school_based_content_not_allowed", school_based_content=SchoolBasedContent.ELECTIVE)


@pytest.mark.parametrize("capacity", [0, -3])
def test_a_capacity_must_be_at_least_one(capacity: int) -> None:
    refused_definition("invalid_capacity", capacity=capacity)


@pytest.mark.parametrize("capacity", [None, 1])
def test_no_capacity_or_a_positive_one_is_accepted(capacity: int | None) -> None:
    assert define_with(capacity=capacity).capacity == capacity


def test_a_school_based_programme_is_a_school_level_programme_of_a_school() -> None:
    ensure_school_based_level(Selection.SCHOOL_BASED, Level.SCHOOL, OrgKind.SCHOOL)
    ensure_school_based_level(Selection.SELF_SELECTED, Level.COUNTY, OrgKind.COUNTY)


@pytest.mark.parametrize(("level", "owner"), [(Level.COUNTY, OrgKind.SCHOOL), (Level.SCHOOL, OrgKind.COUNTY)])
def test_a_school_based_programme_at_another_level_or_owner_is_refused(level: Level, owner: OrgKind) -> None:
    with pytest.raises(DomainError) as caught:
        ensure_school_based_level(Selection.SCHOOL_BASED, level, owner)
    assert caught.value.code == "school_based_owner"


@pytest.mark.parametrize("kind", [OrgKind.PROVIDER, OrgKind.SCHOOL])
def test_a_provider_or_a_school_may_run_a_programme(kind: OrgKind) -> None:
    ensure_provider_kind(kind)


@pytest.mark.parametrize("kind", [OrgKind.COUNTY, OrgKind.TOWN, OrgKind.CITY, OrgKind.PROVINCE])
def test_an_education_bureau_cannot_be_the_provider(kind: OrgKind) -> None:
    with pytest.raises(DomainError) as caught:
        ensure_provider_kind(kind)
    assert caught.value.code == "invalid_provider"


def test_school_based_selection_or_form_needs_approval_and_others_do_not() -> None:
    assert needs_approval("school_based", "workshop")
    assert needs_approval("mandated", "school_based")
    assert not needs_approval("self_selected", "concentrated")


def test_a_programme_finds_its_session_by_number() -> None:
    assert make_programme().session(2)["on"] == START + timedelta(days=1)


def test_a_programme_has_no_session_beyond_its_last() -> None:
    programme = make_programme()
    with refused(programme, "session_not_found") as caught:
        programme.session(4)
    assert isinstance(caught.value, NotFound)
