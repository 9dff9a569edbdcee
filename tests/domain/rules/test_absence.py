"""Leave and substitution: requests, and the school's and the provider's decisions (domain/rules/absence.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.policy import DEFAULT_POLICY
from domain.vocabulary import AbsenceKind, Approver, AssessmentResult, Decision
from tests.domain.rules.builders import (
    END,
    PROVIDER,
    SCHOOL,
    START,
    TRAINEE,
    approve,
    at,
    enrolled,
    last_event,
    make_programme,
    make_teacher,
    on_leave,
    refused,
    request_leave,
)


def test_a_leave_request_is_recorded_pending() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme, reason="  生病住院 ")
    absence = teacher.enrolment(programme.code).absence
    assert absence is not None
    assert (absence.kind, absence.reason, absence.status) == ("leave", "生病住院", "pending")
    assert last_event(teacher).actor == TRAINEE.as_record()


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_leave_request_without_a_reason_is_refused(reason: str) -> None:
    teacher, programme = enrolled()
    with refused(teacher, "reason_required"):
        request_leave(teacher, programme, reason=reason)


def test_a_leave_request_with_an_overlong_reason_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "reason_too_long"):
        request_leave(teacher, programme, reason="病" * 2001)


def test_a_substitution_names_its_substitute() -> None:
    teacher, programme = enrolled()
    teacher.request_absence(programme.code, AbsenceKind.SUBSTITUTION, "外出学习", "A002", TRAINEE, at(START), START)
    absence = teacher.enrolment(programme.code).absence
    assert absence is not None
    assert absence.is_substitution
    assert absence.substitute_teacher_no == "A002"


def test_a_substitution_without_a_substitute_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "substitute_required"):
        teacher.request_absence(programme.code, AbsenceKind.SUBSTITUTION, "外出学习", None, TRAINEE, at(START), START)


def test_a_leave_naming_a_substitute_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "substitute_not_allowed"):
        teacher.request_absence(programme.code, AbsenceKind.LEAVE, "生病", "A002", TRAINEE, at(START), START)


def test_a_teacher_cannot_substitute_for_themself() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "invalid_substitute"):
        teacher.request_absence(programme.code, AbsenceKind.SUBSTITUTION, "外出", "A001", TRAINEE, at(START), START)


def test_an_absence_for_a_programme_not_enrolled_in_is_refused() -> None:
    teacher = make_teacher()
    with refused(teacher, "not_enrolled"):
        request_leave(teacher, make_programme())


def test_a_second_absence_while_one_is_pending_is_refused() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    with refused(teacher, "absence_exists"):
        request_leave(teacher, programme)


def test_a_second_absence_once_one_is_approved_is_refused() -> None:
    teacher, programme = on_leave()
    with refused(teacher, "absence_exists"):
        request_leave(teacher, programme)


def test_a_new_absence_may_be_filed_after_a_rejection() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    teacher.decide_absence(programme.code, Approver.SCHOOL, Decision.REJECTED, "理由不足", SCHOOL, at(START))
    request_leave(teacher, programme, reason="补充病历")
    absence = teacher.enrolment(programme.code).absence
    assert absence is not None
    assert (absence.reason, absence.status) == ("补充病历", "pending")


def test_an_absence_may_be_filed_on_the_programmes_last_day() -> None:
    teacher, programme = enrolled()
    teacher.request_absence(programme.code, AbsenceKind.LEAVE, "生病", None, TRAINEE, at(END), END)
    assert teacher.enrolment(programme.code).absence is not None


def test_an_absence_after_the_programme_ended_is_refused() -> None:
    teacher, programme = enrolled()
    day = END + timedelta(days=1)
    with refused(teacher, "programme_ended"):
        teacher.request_absence(programme.code, AbsenceKind.LEAVE, "生病", None, TRAINEE, at(day), day)


def test_an_absence_after_the_assessment_is_refused() -> None:
    teacher, programme = enrolled()
    teacher.assess(programme.code, 3, 3, AssessmentResult.PASS, DEFAULT_POLICY, PROVIDER, at(END))
    with refused(teacher, "already_assessed"):
        teacher.request_absence(programme.code, AbsenceKind.LEAVE, "生病", None, TRAINEE, at(END), END)


def test_an_absence_counts_once_both_school_and_provider_approve() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    assert approve(teacher, programme, Approver.SCHOOL).status == "pending"
    assert not teacher.enrolment(programme.code).absent
    assert approve(teacher, programme, Approver.PROVIDER).status == "approved"
    assert teacher.enrolment(programme.code).absent


def test_an_absence_is_rejected_as_soon_as_one_approver_rejects() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    approve(teacher, programme, Approver.SCHOOL)
    absence = teacher.decide_absence(
        programme.code, Approver.PROVIDER, Decision.REJECTED, "名额已满", PROVIDER, at(START)
    )
    assert absence.status == "rejected"
    assert not teacher.enrolment(programme.code).absent


def test_an_approver_cannot_decide_the_same_absence_twice() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    approve(teacher, programme, Approver.SCHOOL)
    with refused(teacher, "absence_already_decided"):
        teacher.decide_absence(programme.code, Approver.SCHOOL, Decision.REJECTED, "改主意", SCHOOL, at(START))


def test_deciding_without_an_absence_is_refused() -> None:
    teacher, programme = enrolled()
    with refused(teacher, "absence_not_found"):
        approve(teacher, programme, Approver.SCHOOL)


def test_deciding_a_rejected_absence_is_refused() -> None:
    teacher, programme = enrolled()
    request_leave(teacher, programme)
    teacher.decide_absence(programme.code, Approver.SCHOOL, Decision.REJECTED, "理由不足", SCHOOL, at(START))
    with refused(teacher, "absence_not_found"):
        approve(teacher, programme, Approver.PROVIDER)
