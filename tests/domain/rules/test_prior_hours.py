"""Earlier hours (历史学时, domain/rules/prior_hours.py): what a valid record is, how it is revoked,
and what it adds to its year's figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import NotFound
from domain.ids import event_id
from domain.policy import DEFAULT_POLICY
from domain.rules.prior_hours import PriorFigures, figures_of
from domain.teacher import Teacher
from tests.domain.rules.builders import ADMIN, EVIDENCE, SUPERVISOR, at, last_event, make_teacher, refused

NOW = at(date(2024, 2, 20))  # reporting year 2024


def record(teacher: Teacher, record_id: str = "H-1", year: int = 2023, hours: Any = Decimal(80),
           breakdown: tuple[Any, Any, Any] = (Decimal(40), None, None), source: str = "省继续教育旧平台",
           evidence: list[dict[str, str]] | None = None, reason: str = "平台迁移前认定") -> str:
    return teacher.record_prior_hours(record_id, year, hours, breakdown, source,
                                      EVIDENCE if evidence is None else evidence, reason, DEFAULT_POLICY,
                                      SUPERVISOR, NOW)


def test_earlier_hours_record_who_why_source_evidence_and_breakdown() -> None:
    teacher = make_teacher()
    eid = record(teacher, breakdown=(Decimal("40.5"), Decimal(16), None), source=" 省继续教育旧平台 ")
    held = teacher.prior_record("H-1")
    assert (held.year, held.hours, held.self_selected, held.school_based, held.concentrated) == (
        2023, Decimal(80), Decimal("40.5"), Decimal(16), Decimal(0))
    assert (held.source, held.evidence, held.status, held.event_id) == (
        "省继续教育旧平台", EVIDENCE, "valid", eid)
    event = last_event(teacher)
    assert type(event) is Teacher.PriorHoursRecorded
    assert (event.actor, event.reason, event.source) == (SUPERVISOR.as_record(), "平台迁移前认定", "省继续教育旧平台")
    assert eid == event_id(teacher.id, teacher.version)


@pytest.mark.parametrize(("year", "accepted"), [(1989, False), (1990, True), (2024, True), (2025, False)])
def test_earlier_hours_are_for_a_year_from_1990_to_the_current_one(year: int, accepted: bool) -> None:
    teacher = make_teacher()
    if accepted:
        record(teacher, year=year)
        assert teacher.prior_record("H-1").year == year
    else:
        with refused(teacher, "invalid_year"):
            record(teacher, year=year)


@pytest.mark.parametrize("hours", [Decimal(0), Decimal(-1), Decimal("1.25"), Decimal(2001), "x"])
def test_earlier_hours_are_positive_with_one_decimal(hours: Any) -> None:
    teacher = make_teacher()
    with refused(teacher, "invalid_hours"):
        record(teacher, hours=hours, breakdown=(None, None, None))


@pytest.mark.parametrize(("breakdown", "code"), [
    ((Decimal(81), None, None), "invalid_breakdown"),
    ((None, Decimal("80.1"), None), "invalid_breakdown"),
    ((None, None, Decimal(90)), "invalid_breakdown"),
    ((Decimal(50), Decimal(31), None), "invalid_breakdown"),  # self-selected and 校本 never overlap
    ((Decimal("0.25"), None, None), "invalid_hours"),
    ((Decimal(-1), None, None), "invalid_hours"),
])
def test_each_part_of_the_breakdown_is_at_most_the_hours(breakdown: tuple[Any, Any, Any], code: str) -> None:
    teacher = make_teacher()
    with refused(teacher, code):
        record(teacher, breakdown=breakdown)


def test_a_breakdown_may_fill_the_hours() -> None:
    teacher = make_teacher()
    record(teacher, breakdown=(Decimal(50), Decimal(30), Decimal(80)))
    held = teacher.prior_record("H-1")
    assert (held.self_selected, held.school_based, held.concentrated) == (Decimal(50), Decimal(30), Decimal(80))


@pytest.mark.parametrize(("source", "evidence", "reason", "code"), [
    ("  ", EVIDENCE, "迁移", "source_required"),
    ("旧" * 201, EVIDENCE, "迁移", "source_too_long"),
    ("旧平台", [], "迁移", "evidence_required"),
    ("旧平台", [{"name": "证书.pdf", "sha256": "xyz"}], "迁移", "invalid_evidence"),
    ("旧平台", EVIDENCE, " ", "reason_required"),
])
def test_earlier_hours_need_a_source_evidence_and_a_reason(
    source: str, evidence: list[dict[str, str]], reason: str, code: str
) -> None:
    teacher = make_teacher()
    with refused(teacher, code):
        record(teacher, source=source, evidence=evidence, reason=reason)


def test_the_same_certificate_is_recorded_once_until_revoked() -> None:
    teacher = make_teacher()
    record(teacher)
    with refused(teacher, "prior_hours_already_recorded"):
        record(teacher, "H-2")
    record(teacher, "H-3", source="市平台")  # another source: another certificate
    record(teacher, "H-4", breakdown=(Decimal(30), None, None))  # another breakdown: another certificate
    teacher.revoke_prior_hours("H-1", "证书编号有误", ADMIN, NOW)
    record(teacher, "H-5")  # the revoked one no longer stands in the way
    assert sorted(teacher.prior()) == ["H-1", "H-3", "H-4", "H-5"]


def test_earlier_hours_are_revoked_once_with_a_reason() -> None:
    teacher = make_teacher()
    record(teacher)
    with refused(teacher, "reason_required"):
        teacher.revoke_prior_hours("H-1", "  ", ADMIN, NOW)
    teacher.revoke_prior_hours("H-1", " 证书不实 ", ADMIN, NOW)
    held = teacher.prior_record("H-1")
    assert (held.status, held.revoked_reason, held.revoked_event_id) == (
        "revoked", "证书不实", event_id(teacher.id, teacher.version))
    assert type(last_event(teacher)) is Teacher.PriorHoursRevoked
    with refused(teacher, "prior_hours_already_revoked"):
        teacher.revoke_prior_hours("H-1", "再次撤销", ADMIN, NOW)


def test_revoking_unknown_earlier_hours_is_not_found() -> None:
    teacher = make_teacher()
    with refused(teacher, "prior_hours_not_found") as caught:
        teacher.revoke_prior_hours("H-404", "证书不实", ADMIN, NOW)
    assert isinstance(caught.value, NotFound)


def test_a_record_counts_like_one_credit_school_based_as_elective_and_nothing_once_revoked() -> None:
    teacher = make_teacher()
    record(teacher, hours=Decimal(120), breakdown=(Decimal(40), Decimal(24), Decimal(90)))
    record(teacher, "H-2", hours=Decimal(10), breakdown=(None, None, None))
    assert figures_of(teacher.prior_record("H-1")) == PriorFigures(
        hours=Decimal(120), self_selected=Decimal(40), designated=Decimal(0), elective=Decimal(24),
        concentrated=Decimal(90))
    assert figures_of(teacher.prior_record("H-2")).concentrated is None  # no concentrated credit at all
    teacher.revoke_prior_hours("H-1", "证书不实", ADMIN, NOW)
    assert figures_of(teacher.prior_record("H-1")) == PriorFigures(Decimal(0), Decimal(0), Decimal(0), Decimal(0),
                                                                   None)


def test_earlier_hours_survive_a_replay_of_the_teachers_events() -> None:
    teacher = make_teacher()
    record(teacher, breakdown=(Decimal(40), Decimal(8), None))
    teacher.revoke_prior_hours("H-1", "证书不实", ADMIN, NOW)
    record(teacher, "H-2", year=2022)
    replayed: Any = None
    for event in teacher.collect_events():
        replayed = event.mutate(replayed)
    assert replayed.prior() == teacher.prior()
