"""A programme's roster, every field of it, against a hand computation: attendance and
participation rates, absences, assessments, evaluations and what is overdue on a given day."""

from __future__ import annotations

from datetime import date

import pytest

from domain.vocabulary import AbsenceKind, Approver, AssessmentResult, Decision
from service.app import TrainRec
from tests.conftest import ADMIN, PROVIDER, Clock, build_county, define, teacher_actor


@pytest.fixture
def roster_r(app: TrainRec, clock: Clock) -> TrainRec:
    """R: three 8 h sessions, 2024-03-04 … 2024-03-06 (assessment due 03-11, evaluation 03-16).

    | teacher | absence         | present at | assessed        | evaluated       |
    |---------|-----------------|------------|-----------------|-----------------|
    | A001    | —               | 1, 2, 3    | 03-07 pass      | 03-08           |
    | A002    | —               | 1 (2, 3 absent) | 03-07 good | —               |
    | A003    | leave, approved | —          | —               | —               |
    | B001    | —               | none of 3  | —               | —               |
    | C001    | leave, rejected | 1, 2 (3 absent) | 03-20 pass (late) | 03-20 (late) |"""
    clock.set(date(2024, 2, 20))
    build_county(app)
    define(app, "R")
    for teacher_no in ("A001", "A002", "A003", "B001", "C001"):
        app.enrol(ADMIN, "R", teacher_no)
    for teacher_no, provider_decision in (("A003", Decision.APPROVED), ("C001", Decision.REJECTED)):
        app.request_absence(ADMIN, "R", teacher_no, AbsenceKind.LEAVE, "病假")
        app.decide_absence(ADMIN, "R", teacher_no, Approver.SCHOOL, Decision.APPROVED)
        app.decide_absence(PROVIDER, "R", teacher_no, Approver.PROVIDER, provider_decision, "理由")
    for session, day, present, absent in ((1, 4, ["A001", "A002", "C001"], ["B001"]),
                                          (2, 5, ["A001", "C001"], ["A002", "B001"]),
                                          (3, 6, ["A001"], ["A002", "B001", "C001"])):
        clock.set(date(2024, 3, day), hour=18)
        app.record_attendance(PROVIDER, "R", session, present, absent)
    clock.set(date(2024, 3, 7))
    app.assess(PROVIDER, "R", "A001", 4, 4, AssessmentResult.PASS)
    app.assess(PROVIDER, "R", "A002", 4, 4, AssessmentResult.GOOD)
    clock.set(date(2024, 3, 8))
    app.evaluate(teacher_actor("A001"), "R", "A001", 5, 5, 5)
    clock.set(date(2024, 3, 20))
    app.assess(PROVIDER, "R", "C001", 3, 3, AssessmentResult.PASS)
    app.evaluate(teacher_actor("C001"), "R", "C001", 4, 4, 4)
    return app


def enrolled(teacher_no: str, name: str, school_id: str, present: int, marked: int, rate: float,
             assessment: dict[str, object] | None = None, absence: dict[str, object] | None = None,
             evaluation_late: bool | None = None) -> dict[str, object]:
    return {"teacher_no": teacher_no, "name": name, "school_id": school_id, "substitutes_for": None,
            "absence": absence, "sessions_present": present, "sessions_marked": marked, "attendance_rate": rate,
            "assessment": assessment, "evaluated": evaluation_late is not None, "evaluation_late": evaluation_late}


def test_every_field_of_a_roster(roster_r: TrainRec) -> None:
    leave_approved = {"kind": "leave", "status": "approved", "substitute_teacher_no": None}
    leave_rejected = {"kind": "leave", "status": "rejected", "substitute_teacher_no": None}
    roster = roster_r.roster(PROVIDER, "R")
    assert roster == {
        "code": "R", "title": "培训项目R", "provider_id": "P1", "owner_org_id": "C1", "ends_on": "2024-03-06",
        "sessions": 3, "sessions_held": 3,
        "enrolled": [
            enrolled("A001", "张伟", "S1", 3, 3, 1.0, {"result": "pass", "late": False}, evaluation_late=False),
            enrolled("A002", "王芳", "S1", 1, 3, 0.3333, {"result": "good", "late": False}),
            enrolled("A003", "李娜", "S1", 0, 0, 0.0, absence=leave_approved),
            enrolled("B001", "刘洋", "S2", 0, 3, 0.0),
            enrolled("C001", "陈静", "S3", 2, 3, 0.6667, {"result": "pass", "late": True}, leave_rejected,
                     evaluation_late=True),
        ],
        "absences": [{"teacher_no": "A003", **leave_approved}, {"teacher_no": "C001", **leave_rejected}],
        "assessed": ["A001", "A002", "C001"],
        "evaluated": ["A001", "C001"],
        # A003's approved leave excuses it: 4 enrolments count, 3 of them attended at least once
        "counts": {"enrolled": 5, "approved_absences": 1, "attended": 3, "assessed": 3, "evaluated": 2},
        "attendance_rate": 0.5,  # (3 + 1 + 0 + 2) sessions present of 4 × 3
        "participation_rate": 0.75,  # 3 / 4
        "overdue_assessments": ["B001"],  # due 2024-03-11
        "overdue_evaluations": ["A002"],  # due 2024-03-16
        "policy_version": "seeds-default-1",
    }


def test_attendance_rates_count_only_the_sessions_held_by_today(app: TrainRec, clock: Clock) -> None:
    """Mid-programme, a session not yet held is nobody's absence: after the first of three 8 h
    sessions, A001 and A002 present and B001 absent, the rates are over one session, not three."""
    clock.set(date(2024, 2, 20))
    build_county(app)
    define(app, "M")  # sessions on 2024-03-04, 03-05 and 03-06
    for teacher_no in ("A001", "A002", "B001"):
        app.enrol(ADMIN, "M", teacher_no)
    assert app.roster(PROVIDER, "M")["sessions_held"] == 0
    assert app.roster(PROVIDER, "M")["attendance_rate"] is None  # nothing held yet: no rate
    clock.set(date(2024, 3, 4), hour=18)
    app.record_attendance(PROVIDER, "M", 1, ["A001", "A002"], ["B001"])
    roster = app.roster(PROVIDER, "M")
    assert roster["sessions"] == 3
    assert roster["sessions_held"] == 1
    assert [e["attendance_rate"] for e in roster["enrolled"]] == [1.0, 1.0, 0.0]  # 1/1, 1/1, 0/1
    assert roster["attendance_rate"] == 0.6667  # 2 present of 3 enrolments × 1 session held
    clock.set(date(2024, 3, 5), hour=8)  # the second session's day: held, not yet marked
    roster = app.roster(PROVIDER, "M")
    assert roster["sessions_held"] == 2
    assert roster["attendance_rate"] == 0.3333  # 2 of 3 × 2
    clock.set(date(2024, 3, 7))
    assert app.roster(PROVIDER, "M")["sessions_held"] == 3
    assert app.roster(PROVIDER, "M")["attendance_rate"] == 0.2222  # 2 of 3 × 3


def test_nothing_is_overdue_on_the_day_it_is_due(roster_r: TrainRec, clock: Clock) -> None:
    def overdue(day: date) -> tuple[list[str], list[str]]:
        clock.set(day)
        roster = roster_r.roster(PROVIDER, "R")
        return roster["overdue_assessments"], roster["overdue_evaluations"]

    # the roster as recorded by 03-20, read on earlier days: B001 is never assessed, A002 never evaluates
    assert overdue(date(2024, 3, 11)) == ([], [])
    assert overdue(date(2024, 3, 12)) == (["B001"], [])
    assert overdue(date(2024, 3, 16)) == (["B001"], [])
    assert overdue(date(2024, 3, 17)) == (["B001"], ["A002"])
