"""Leave and substitution with their two approvals; attendance sheets in one transaction."""

from __future__ import annotations

from datetime import date

from domain.vocabulary import AbsenceKind, Approver, AssessmentResult, Decision
from service.app import TrainRec
from tests.conftest import (
    ADMIN,
    OTHER_PROVIDER,
    OTHER_SCHOOL_ADMIN,
    PROVIDER,
    SCHOOL_ADMIN,
    Clock,
    define,
    teacher_actor,
)
from tests.helpers import refused, types_of


def _enrolled(county: TrainRec, code: str = "K1", capacity: int | None = None) -> None:
    define(county, code, capacity=capacity)
    county.enrol(ADMIN, code, "A001")
    county.enrol(ADMIN, code, "A002")


def test_leave_counts_only_once_school_and_provider_approved(county: TrainRec) -> None:
    _enrolled(county)
    county.request_absence(teacher_actor("A001"), "K1", "A001", AbsenceKind.LEAVE, "住院治疗")
    first = county.decide_absence(SCHOOL_ADMIN, "K1", "A001", Approver.SCHOOL, Decision.APPROVED)
    assert first.body["status"] == "pending"
    second = county.decide_absence(PROVIDER, "K1", "A001", Approver.PROVIDER, Decision.APPROVED)
    assert second.body["status"] == "approved"


def test_one_rejection_rejects_the_absence_and_a_new_one_may_be_filed(county: TrainRec) -> None:
    _enrolled(county)
    county.request_absence(SCHOOL_ADMIN, "K1", "A001", AbsenceKind.LEAVE, "外出比赛")
    result = county.decide_absence(PROVIDER, "K1", "A001", Approver.PROVIDER, Decision.REJECTED, "非必要")
    assert result.body["status"] == "rejected"
    assert county.request_absence(SCHOOL_ADMIN, "K1", "A001", AbsenceKind.LEAVE, "病假").status == 201


def test_absence_refusals(county: TrainRec, clock: Clock) -> None:
    _enrolled(county)
    with refused(county, "reason_required"):
        county.request_absence(SCHOOL_ADMIN, "K1", "A001", AbsenceKind.LEAVE, "")
    with refused(county, "substitute_required"):
        county.request_absence(SCHOOL_ADMIN, "K1", "A001", AbsenceKind.SUBSTITUTION, "出差")
    with refused(county, "not_enrolled"):
        county.request_absence(SCHOOL_ADMIN, "K1", "A003", AbsenceKind.LEAVE, "出差")
    with refused(county, "forbidden_scope"):
        county.request_absence(OTHER_SCHOOL_ADMIN, "K1", "A001", AbsenceKind.LEAVE, "出差")
    with refused(county, "substitute_other_school"):
        county.request_absence(ADMIN, "K1", "A001", AbsenceKind.SUBSTITUTION, "出差", "C001")
    with refused(county, "already_enrolled"):
        county.request_absence(SCHOOL_ADMIN, "K1", "A001", AbsenceKind.SUBSTITUTION, "出差", "A002")
    county.request_absence(SCHOOL_ADMIN, "K1", "A001", AbsenceKind.LEAVE, "出差")
    with refused(county, "absence_exists"):
        county.request_absence(SCHOOL_ADMIN, "K1", "A001", AbsenceKind.LEAVE, "出差")
    county.decide_absence(SCHOOL_ADMIN, "K1", "A001", Approver.SCHOOL, Decision.APPROVED)
    with refused(county, "absence_already_decided"):
        county.decide_absence(SCHOOL_ADMIN, "K1", "A001", Approver.SCHOOL, Decision.APPROVED)
    with refused(county, "forbidden_scope"):
        county.decide_absence(OTHER_PROVIDER, "K1", "A001", Approver.PROVIDER, Decision.APPROVED)
    with refused(county, "absence_not_found"):
        county.decide_absence(PROVIDER, "K1", "A002", Approver.PROVIDER, Decision.APPROVED)
    clock.set(date(2024, 3, 7))
    with refused(county, "programme_ended"):
        county.request_absence(SCHOOL_ADMIN, "K1", "A002", AbsenceKind.LEAVE, "补请假")


def test_approved_substitution_enrols_the_substitute_in_the_same_transaction(county: TrainRec) -> None:
    _enrolled(county, capacity=2)
    county.request_absence(SCHOOL_ADMIN, "K1", "A001", AbsenceKind.SUBSTITUTION, "临时任务", "A003")
    county.decide_absence(SCHOOL_ADMIN, "K1", "A001", Approver.SCHOOL, Decision.APPROVED)
    result = county.decide_absence(PROVIDER, "K1", "A001", Approver.PROVIDER, Decision.APPROVED)
    assert types_of(result.body) == ["AbsenceDecided", "Enrolled", "SeatPassed"]
    assert [e.get("teacher_no") for e in result.body["events"]] == ["A001", "A003", None]
    history = county.teacher_history(ADMIN, "A003")
    assert history[-1]["data"]["substitutes_for"] == "A001"
    assert county.programme(ADMIN, "K1")["seats_taken"] == 2


def test_attendance_sheet_records_every_line(county: TrainRec, clock: Clock) -> None:
    _enrolled(county)
    clock.set(date(2024, 3, 4), hour=18)
    result = county.record_attendance(PROVIDER, "K1", 1, ["A001"], ["A002"])
    assert types_of(result.body) == ["AttendanceRecorded", "AttendanceRecorded"]
    again = county.record_attendance(PROVIDER, "K1", 1, ["A001"], ["A002"])
    assert again.body["events"] == []
    corrected = county.record_attendance(PROVIDER, "K1", 1, ["A001", "A002"], [])
    assert corrected.body["recorded"] == 1
    last = county.teacher_history(ADMIN, "A002")[-1]
    assert last["data"]["present"] is True
    assert last["data"]["corrects"] == county.teacher_history(ADMIN, "A002")[-2]["id"]


def test_one_bad_line_refuses_the_whole_sheet(county: TrainRec, clock: Clock) -> None:
    _enrolled(county)
    clock.set(date(2024, 3, 5))
    with refused(county, "not_enrolled"):
        county.record_attendance(ADMIN, "K1", 1, ["A001", "A003"], [])
    with refused(county, "teacher_not_found"):
        county.record_attendance(ADMIN, "K1", 1, ["A001", "NOPE"], [])
    with refused(county, "present_and_absent"):
        county.record_attendance(PROVIDER, "K1", 1, ["A001"], ["A001"])
    with refused(county, "duplicate_line"):
        county.record_attendance(PROVIDER, "K1", 1, ["A001", "A001"], [])


def test_attendance_refusals(county: TrainRec, clock: Clock) -> None:
    _enrolled(county)
    clock.set(date(2024, 3, 4))
    with refused(county, "session_not_held"):
        county.record_attendance(PROVIDER, "K1", 2, ["A001"], [])
    with refused(county, "session_not_found"):
        county.record_attendance(PROVIDER, "K1", 9, ["A001"], [])
    with refused(county, "forbidden_scope"):
        county.record_attendance(OTHER_PROVIDER, "K1", 1, ["A001"], [])
    county.request_absence(SCHOOL_ADMIN, "K1", "A001", AbsenceKind.LEAVE, "病假")
    county.decide_absence(SCHOOL_ADMIN, "K1", "A001", Approver.SCHOOL, Decision.APPROVED)
    county.decide_absence(PROVIDER, "K1", "A001", Approver.PROVIDER, Decision.APPROVED)
    with refused(county, "absence_approved"):
        county.record_attendance(PROVIDER, "K1", 1, ["A001"], [])
    assert county.record_attendance(PROVIDER, "K1", 1, [], ["A001"]).status == 201


def test_a_substitute_owing_an_earlier_evaluation_is_not_enrolled_by_the_second_approval(
    county: TrainRec, clock: Clock
) -> None:
    """The second approval enrols the substitute under the rules of any enrolment: one owing the
    evaluation of an earlier term's programme makes it refused, and nothing is recorded."""
    clock.set(date(2023, 10, 1))
    define(county, "AUT", starts_on=date(2023, 10, 9))
    county.enrol(ADMIN, "AUT", "A003")
    clock.set(date(2023, 10, 12))
    county.assess(ADMIN, "AUT", "A003", 4, 4, AssessmentResult.PASS)
    clock.set(date(2024, 2, 20))
    _enrolled(county)
    county.request_absence(SCHOOL_ADMIN, "K1", "A001", AbsenceKind.SUBSTITUTION, "临时任务", "A003")
    county.decide_absence(SCHOOL_ADMIN, "K1", "A001", Approver.SCHOOL, Decision.APPROVED)
    with refused(county, "evaluation_pending"):
        county.decide_absence(PROVIDER, "K1", "A001", Approver.PROVIDER, Decision.APPROVED)
    county.evaluate(teacher_actor("A003"), "AUT", "A003", 5, 4, 4)
    result = county.decide_absence(PROVIDER, "K1", "A001", Approver.PROVIDER, Decision.APPROVED)
    assert types_of(result.body) == ["AbsenceDecided", "Enrolled"]
