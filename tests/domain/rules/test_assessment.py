"""Assessment: after the programme ends, once, scores 1–5, late after the deadline (domain/rules/assessment.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.policy import DEFAULT_POLICY
from domain.vocabulary import AssessmentResult
from tests.domain.rules.builders import (
    END,
    PROVIDER,
    START,
    assess,
    assessed,
    at,
    enrolled,
    last_event,
    make_programme,
    make_teacher,
    on_leave,
    refused,
)


def test_an_assessment_within_five_days_is_recorded_on_time() -> None:
    teacher, programme = enrolled()
    teacher.record_attendance(programme.code, 1, True, PROVIDER, at(START, 18))
    teacher.assess(programme.code, 4, 5, AssessmentResult.GOOD, DEFAULT_POLICY, PROVIDER, at(END + timedelta(days=5)))
    assessment = teacher.enrolment(programme.code).assessment
    assert assessment is not None
    assert assessment["result"] == "good"
    assert assessment["due_on"] == END + timedelta(days=5)
    assert assessment["late"] is False
    assert assessment["attendance_rate"] == Decimal("0.3333")
    assert assessment["assessed_by"] == PROVIDER.as_record()
    assert last_event(teacher).policy_version == DEFAULT_POLICY.version


def test_an_assessment_more_than_five_days_after_the_end_is_flagged_late_but_recorded() -> None:
    teacher, programme = enrolled()
    teacher.assess(programme.code, 4, 4, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, at(END + timedelta(days=6)))
    assessment = teacher.enrolment(programme.code).assessment
    assert assessment is not None
    assert assessment["late"] is True
    assert last_event(teacher).late is True


def test_an_assessment_after_shanghai_midnight_of_the_due_day_is_late() -> None:
    teacher, programme = enrolled()
    due = END + timedelta(days=5)
    instant = datetime.combine(due, time(16, 30), UTC)  # 00:30 the next day in Shanghai
    teacher.assess(programme.code, 4, 4, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, instant)
    assert last_event(teacher).late is True


def test_an_assessment_on_the_last_day_of_the_programme_is_allowed() -> None:
    teacher, programme = enrolled()
    teacher.assess(programme.code, 4, 4, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, at(END, 17))
    assert teacher.enrolment(programme.code).assessment is not None


def test_an_assessment_before_the_programme_ends_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "programme_not_ended"):
        teacher.assess(
            programme.code, 4, 4, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, at(END - timedelta(days=1))
        )


def test_the_end_is_judged_by_the_shanghai_date_not_the_utc_date() -> None:
    teacher, programme = enrolled()
    instant = datetime.combine(END - timedelta(days=1), time(16, 30), UTC)  # already END in Shanghai
    teacher.assess(programme.code, 4, 4, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, instant)
    assert teacher.enrolment(programme.code).assessment is not None


def test_a_second_assessment_is_refused() -> None:
    teacher, programme = assessed()
    with refused(teacher, "already_assessed"):
        assess(teacher, programme, AssessmentResult.EXCELLENT, after=2)


def test_an_excused_trainee_cannot_be_assessed() -> None:
    teacher, programme = on_leave()
    with refused(teacher, "absence_approved"):
        assess(teacher, programme)


@pytest.mark.parametrize(("attitude", "assignments"), [(0, 3), (6, 3), (3, 0), (3, 6), (True, 3), ("3", 3), (3, 3.0)])
def test_assessment_scores_must_be_integers_from_one_to_five(attitude: Any, assignments: Any) -> None:
    teacher, programme = enrolled()
    with refused(teacher, "invalid_score"):
        teacher.assess(programme.code, attitude, assignments, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER,
                       at(END + timedelta(days=1)))


@pytest.mark.parametrize("score", [1, 5])
def test_assessment_scores_of_one_and_five_are_accepted(score: int) -> None:
    teacher, programme = enrolled()
    teacher.assess(programme.code, score, score, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, at(END))
    assert teacher.enrolment(programme.code).assessment is not None


def test_assessing_a_programme_not_enrolled_in_is_refused() -> None:
    teacher = make_teacher()
    with refused(teacher, "not_enrolled"):
        assess(teacher, make_programme())
