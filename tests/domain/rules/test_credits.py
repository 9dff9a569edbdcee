"""Credit recognition: after a passing assessment, once per programme, never more hours than the programme,
converted by the policy given (domain/rules/credits.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.ids import event_id
from domain.policy import DEFAULT_POLICY, Policy
from domain.vocabulary import AssessmentResult
from tests.domain.rules.builders import (
    ADMIN,
    END,
    SUPERVISOR,
    assess,
    assessed,
    at,
    award,
    credited,
    enrol,
    enrolled,
    make_programme,
    make_teacher,
    refused,
)


def test_a_credit_is_awarded_after_a_passing_assessment_with_its_evidence() -> None:
    teacher, programme = assessed()
    assessment_id = teacher.enrolment(programme.code).assessment["event_id"]  # type: ignore[index]
    eid = award(teacher, programme, hours=Decimal(24))
    credit = teacher.credit("C-1")
    assert eid == credit.event_id == event_id(teacher.id, teacher.version)
    assert credit.evidence == {"assessment_event_id": assessment_id}
    assert (credit.hours, credit.credits, credit.year, credit.school_id) == (Decimal(24), Decimal(24), 2024, "S1")
    assert credit.certified_by == SUPERVISOR.as_record()
    assert credit.awarded_on == END + timedelta(days=3)
    assert credit.policy_version == DEFAULT_POLICY.version
    assert credit.status == "valid"


def test_a_credit_may_recognise_fewer_hours_than_the_programme() -> None:
    teacher, programme = assessed()
    award(teacher, programme, hours=Decimal("12.5"))
    assert teacher.credit("C-1").hours == Decimal("12.5")


def test_a_credit_above_the_programme_hours_is_refused() -> None:
    teacher, programme = assessed()
    with refused(teacher, "hours_exceed_programme"):
        award(teacher, programme, hours=Decimal("24.5"))


@pytest.mark.parametrize("hours", [Decimal(0), Decimal(-8), Decimal("8.25")])
def test_a_credit_of_invalid_hours_is_refused(hours: Decimal) -> None:
    teacher, programme = assessed()
    with refused(teacher, "invalid_hours"):
        award(teacher, programme, hours=hours)


def test_a_second_credit_for_the_same_programme_is_refused() -> None:
    teacher, programme = credited()
    with refused(teacher, "credit_already_awarded"):
        award(teacher, programme, credit_id="C-2")


def test_a_credit_id_cannot_be_reused_for_another_programme() -> None:
    teacher, _ = credited()
    other = make_programme("P-2024-02", starts_on=date(2024, 3, 11))
    enrol(teacher, other)
    assess(teacher, other)
    with refused(teacher, "credit_exists"):
        award(teacher, other, credit_id="C-1")


def test_a_credit_without_an_assessment_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "assessment_required"):
        award(teacher, programme)


def test_a_credit_after_a_failed_assessment_is_refused() -> None:
    teacher, programme = assessed(AssessmentResult.FAIL)
    with refused(teacher, "assessment_failed"):
        award(teacher, programme)


@pytest.mark.parametrize("result", [AssessmentResult.PASS, AssessmentResult.GOOD, AssessmentResult.EXCELLENT])
def test_a_pass_good_or_excellent_assessment_earns_credit(result: AssessmentResult) -> None:
    teacher, programme = assessed(result)
    award(teacher, programme)
    assert teacher.credit("C-1").hours == programme.hours


def test_a_credit_for_a_programme_not_enrolled_in_is_refused() -> None:
    teacher = make_teacher()
    with refused(teacher, "not_enrolled"):
        award(teacher, make_programme())


def test_a_credit_counts_in_the_year_its_programme_ended() -> None:
    old = make_programme("P-2023-D", starts_on=date(2023, 12, 27))
    teacher = make_teacher()
    enrol(teacher, old)
    assess(teacher, old)
    teacher.award_credit("C-1", old.code, Decimal(24), DEFAULT_POLICY, SUPERVISOR, at(date(2024, 1, 5)))
    credit = teacher.credit("C-1")
    assert (credit.year, credit.awarded_on) == (2023, date(2024, 1, 5))


def test_a_credit_is_booked_to_the_school_where_the_programme_ended() -> None:
    teacher, programme = assessed()
    teacher.transfer("S2", END + timedelta(days=1), ADMIN, at(END + timedelta(days=2)), END + timedelta(days=2))
    award(teacher, programme)
    assert teacher.credit("C-1").school_id == "S1"
    assert teacher.school_id == "S2"


def test_a_credit_is_converted_to_credits_by_the_policy_given() -> None:
    beijing = Policy.model_validate(
        {**DEFAULT_POLICY.model_dump(mode="json"), "version": "beijing-1", "conversions": [{"hours_per_credit": "10"}]}
    )
    teacher, programme = assessed()
    award(teacher, programme, policy=beijing)
    credit = teacher.credit("C-1")
    assert (credit.hours, credit.credits, credit.policy_version) == (Decimal(24), Decimal("2.40"), "beijing-1")


def test_an_excellent_result_uses_the_excellent_rate_when_awarding() -> None:
    policy = Policy.model_validate(
        {**DEFAULT_POLICY.model_dump(mode="json"),
         "conversions": [{"hours_per_credit": "8", "excellent_hours_per_credit": "6"}]}
    )
    teacher, programme = assessed(AssessmentResult.EXCELLENT)
    award(teacher, programme, policy=policy)
    assert teacher.credit("C-1").credits == Decimal("4.00")


def test_a_revoked_credit_can_be_replaced_by_a_new_award() -> None:
    teacher, programme = credited(hours=Decimal(16))
    teacher.revoke_credit("C-1", "学时认定有误", SUPERVISOR, at(END + timedelta(days=5)))
    award(teacher, programme, credit_id="C-2", hours=Decimal(24))
    assert teacher.credit("C-1").status == "revoked"
    assert teacher.credit("C-2").status == "valid"
    assert teacher.credit("C-2").hours == Decimal(24)
