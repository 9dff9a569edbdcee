"""Programmes, approval of school-based ones, enrolment and the gating rule, on every backend."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.actor import Actor
from domain.errors import DomainError
from domain.vocabulary import (
    AssessmentResult,
    Decision,
    Form,
    Level,
    Role,
    SchoolBasedContent,
    Selection,
)
from service.app import TrainRec
from tests.conftest import (
    ADMIN,
    AUDITOR,
    COUNTY_SUP,
    OTHER_PROVIDER,
    PROVIDER,
    SCHOOL_ADMIN,
    TOWN_SUP,
    Clock,
    define,
    sessions,
    teacher_actor,
)
from tests.helpers import refused, types_of


def test_define_programme_records_it_with_sessions(county: TrainRec) -> None:
    define(county, "K1", actor=PROVIDER)
    programme = county.programme(ADMIN, "K1")
    assert programme["hours"] == Decimal(24)
    assert [s["no"] for s in programme["sessions"]] == [1, 2, 3]
    assert programme["needs_approval"] is False


def test_programme_code_is_unique(county: TrainRec) -> None:
    define(county, "K1")
    with refused(county, "programme_exists"):
        define(county, "K1")


def test_session_hours_must_add_up_to_programme_hours(county: TrainRec) -> None:
    with refused(county, "session_hours_mismatch"):
        county.define_programme(
            ADMIN, code="K2", title="不平衡", level=Level.COUNTY, form=Form.CONCENTRATED,
            selection=Selection.MANDATED, hours=Decimal(30), provider_id="P1", owner_org_id="C1",
            starts_on=date(2024, 3, 4), ends_on=date(2024, 3, 6), sessions=sessions(date(2024, 3, 4), 3, 8),
        )


def test_provider_must_be_a_provider_or_school(county: TrainRec) -> None:
    with refused(county, "invalid_provider"):
        define(county, "K3", provider_id="T1")


def test_provider_defines_only_its_own_programmes(county: TrainRec) -> None:
    with refused(county, "forbidden_scope"):
        define(county, "K4", provider_id="P1", actor=OTHER_PROVIDER)
    with refused(county, "forbidden_scope"):
        define(county, "K4", actor=AUDITOR)


def test_school_based_programme_needs_approval_before_enrolment(county: TrainRec) -> None:
    define(county, "SB1", level=Level.SCHOOL, form=Form.SCHOOL_BASED, selection=Selection.SCHOOL_BASED,
           content=SchoolBasedContent.DESIGNATED, provider_id="S1", owner_org_id="S1", actor=SCHOOL_ADMIN)
    assert county.programme(ADMIN, "SB1")["needs_approval"] is True
    with refused(county, "programme_not_approved"):
        county.enrol(SCHOOL_ADMIN, "SB1", "A001")
    with refused(county, "forbidden_scope"):
        county.decide_programme(SCHOOL_ADMIN, "SB1", Decision.APPROVED, "")
    result = county.decide_programme(TOWN_SUP, "SB1", Decision.APPROVED, "内容符合要求")
    assert types_of(result.body) == ["Decided"]
    assert types_of(county.enrol(SCHOOL_ADMIN, "SB1", "A001").body) == ["Enrolled"]


def test_school_based_programme_is_only_for_its_school(county: TrainRec) -> None:
    define(county, "SB2", level=Level.SCHOOL, form=Form.SCHOOL_BASED, selection=Selection.SCHOOL_BASED,
           content=SchoolBasedContent.ELECTIVE, provider_id="S1", owner_org_id="S1")
    county.decide_programme(ADMIN, "SB2", Decision.APPROVED, "")
    with refused(county, "outside_programme_school"):
        county.enrol(ADMIN, "SB2", "B001")


def test_school_based_programme_needs_a_school_owner_and_content(county: TrainRec) -> None:
    with refused(county, "school_based_owner"):
        define(county, "SB3", level=Level.COUNTY, form=Form.SCHOOL_BASED, selection=Selection.SCHOOL_BASED,
               content=SchoolBasedContent.ELECTIVE, provider_id="S1", owner_org_id="S1")
    with refused(county, "school_based_content_required"):
        define(county, "SB3", level=Level.SCHOOL, form=Form.SCHOOL_BASED, selection=Selection.SCHOOL_BASED,
               provider_id="S1", owner_org_id="S1")


def test_rejected_programme_takes_no_enrolment_and_needs_a_reason(county: TrainRec) -> None:
    define(county, "SB4", level=Level.SCHOOL, form=Form.SCHOOL_BASED, selection=Selection.SCHOOL_BASED,
           content=SchoolBasedContent.ELECTIVE, provider_id="S1", owner_org_id="S1")
    with refused(county, "reason_required"):
        county.decide_programme(COUNTY_SUP, "SB4", Decision.REJECTED, " ")
    county.decide_programme(COUNTY_SUP, "SB4", Decision.REJECTED, "课时安排不合理")
    with refused(county, "programme_already_decided"):
        county.decide_programme(COUNTY_SUP, "SB4", Decision.APPROVED, "")
    with refused(county, "programme_rejected"):
        county.enrol(ADMIN, "SB4", "A001")


def test_teacher_self_enrols_only_in_self_selected_programmes(county: TrainRec) -> None:
    define(county, "K5")
    define(county, "K6", selection=Selection.MANDATED)
    assert county.enrol(teacher_actor("A001"), "K5", "A001").status == 201
    with refused(county, "forbidden_scope"):
        county.enrol(teacher_actor("A001"), "K6", "A001")
    with refused(county, "forbidden_scope"):
        county.enrol(teacher_actor("A001"), "K5", "A002")
    assert county.enrol(SCHOOL_ADMIN, "K6", "A001").status == 201


def test_enrolment_is_once_per_programme(county: TrainRec) -> None:
    define(county, "K7")
    county.enrol(ADMIN, "K7", "A001")
    with refused(county, "already_enrolled"):
        county.enrol(ADMIN, "K7", "A001")


def test_capacity_is_enforced(county: TrainRec) -> None:
    define(county, "K8", capacity=1)
    county.enrol(ADMIN, "K8", "A001")
    with refused(county, "programme_full"):
        county.enrol(ADMIN, "K8", "A002")


def test_no_enrolment_after_the_programme_ended(county: TrainRec, clock: Clock) -> None:
    define(county, "K9")
    clock.set(date(2024, 3, 7))
    with refused(county, "programme_ended"):
        county.enrol(ADMIN, "K9", "A001")


def test_unknown_programme_and_teacher_are_not_found(county: TrainRec) -> None:
    define(county, "K10")
    with refused(county, "programme_not_found"):
        county.enrol(ADMIN, "NOPE", "A001")
    with refused(county, "teacher_not_found"):
        county.enrol(ADMIN, "K10", "NOPE")


def _assessed_in_autumn(county: TrainRec, clock: Clock) -> None:
    clock.set(date(2023, 10, 1))
    define(county, "AUT", starts_on=date(2023, 10, 9))
    county.enrol(ADMIN, "AUT", "A001")
    clock.set(date(2023, 10, 12))
    county.record_attendance(PROVIDER, "AUT", 1, ["A001"], [])
    county.assess(PROVIDER, "AUT", "A001", 4, 4, AssessmentResult.PASS)


def test_gating_refuses_enrolment_in_a_later_term_until_evaluated(county: TrainRec, clock: Clock) -> None:
    _assessed_in_autumn(county, clock)
    define(county, "SPR", starts_on=date(2024, 3, 4))
    define(county, "AUT2", starts_on=date(2023, 11, 6))
    assert county.enrol(ADMIN, "AUT2", "A001").status == 201  # same term: allowed
    with refused(county, "evaluation_pending"):
        county.enrol(ADMIN, "SPR", "A001")
    county.evaluate(teacher_actor("A001"), "AUT", "A001", 5, 4, 4, "收获很大")
    assert county.enrol(ADMIN, "SPR", "A001").status == 201


def test_gating_hides_hours_from_the_trainee_until_evaluated(county: TrainRec, clock: Clock) -> None:
    _assessed_in_autumn(county, clock)
    county.award_credit(PROVIDER, "AUT", "A001", Decimal(24))
    mine = county.transcript(teacher_actor("A001"), "A001")
    assert mine["lines"] == []
    assert mine["pending_evaluation"] == ["AUT"]
    assert len(county.transcript(SCHOOL_ADMIN, "A001")["lines"]) == 1
    county.evaluate(teacher_actor("A001"), "AUT", "A001", 5, 4, 4, None)
    assert len(county.transcript(teacher_actor("A001"), "A001")["lines"]) == 1


def test_teacher_reads_only_own_transcript(county: TrainRec) -> None:
    with pytest.raises(DomainError) as caught:
        county.transcript(teacher_actor("A001"), "A002")
    assert caught.value.code == "forbidden_scope"
    with pytest.raises(DomainError):
        county.transcript(Actor("x", Role.SCHOOL_ADMIN, org_id="S3"), "A001")
    assert county.transcript(AUDITOR, "A001")["teacher_no"] == "A001"
