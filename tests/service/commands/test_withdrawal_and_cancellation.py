"""Enrolments withdrawn before the programme starts (POST …/enrolments/{teacher_no}/withdrawal) and
sessions cancelled before they are held (POST …/sessions/{no}/cancellation). On memory, SQLite and
PostgreSQL, and through the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient

from domain.vocabulary import AssessmentResult, Selection
from projections.check import check
from service.api.main import create_app
from service.app import TrainRec
from tests.conftest import (
    ADMIN,
    COUNTY_SUP,
    OTHER_PROVIDER,
    PROVIDER,
    SCHOOL_ADMIN,
    Clock,
    build_county,
    define,
    teacher_actor,
)
from tests.helpers import refused
from tests.service.api.conftest import SECRET, bearer


def _no_differences(app: TrainRec) -> None:
    app.read_model.catch_up()
    assert check(app.read_model)[1] == []


# --- withdrawal ------------------------------------------------------------------------------------
def test_a_withdrawal_frees_the_seat_and_leaves_the_roster(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    define(app, "K1", capacity=1)  # 2024-03-04..06
    app.enrol(ADMIN, "K1", "A001")
    with refused(app, "programme_full"):
        app.enrol(ADMIN, "K1", "A002")
    answer = app.withdraw_enrolment(teacher_actor("A001"), "K1", "A001", "与期末考试冲突")
    assert answer.status == 201
    assert [e["type"] for e in answer.body["events"]] == ["EnrolmentWithdrawn", "SeatFreed"]
    assert app.programme(ADMIN, "K1")["seats_taken"] == 0
    app.enrol(ADMIN, "K1", "A002")
    roster = app.roster(PROVIDER, "K1")
    assert [e["teacher_no"] for e in roster["enrolled"]] == ["A002"]
    assert roster["counts"]["enrolled"] == 1
    history = app.teacher_history(ADMIN, "A001")[-1]
    assert (history["type"], history["reason"], history["data"]) == (
        "EnrolmentWithdrawn", "与期末考试冲突", {"programme_code": "K1"})
    _no_differences(app)


def test_a_withdrawn_teacher_may_enrol_again(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    define(app, "K1")
    app.enrol(ADMIN, "K1", "A001")
    app.withdraw_enrolment(SCHOOL_ADMIN, "K1", "A001", "临时调课")
    assert app.roster(PROVIDER, "K1")["enrolled"] == []
    _no_differences(app)
    assert app.enrol(ADMIN, "K1", "A001").status == 201
    clock.set(date(2024, 3, 4), hour=18)
    app.record_attendance(PROVIDER, "K1", 1, ["A001"], [])
    assert [(e["teacher_no"], e["sessions_present"]) for e in app.roster(PROVIDER, "K1")["enrolled"]] == [("A001", 1)]
    _no_differences(app)


def test_withdrawal_refusals(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    define(app, "K1")
    define(app, "MD", selection=Selection.MANDATED)
    app.enrol(ADMIN, "K1", "A001")
    app.enrol(ADMIN, "MD", "A001")
    with refused(app, "forbidden_scope"):  # a mandated enrolment is the school's to withdraw
        app.withdraw_enrolment(teacher_actor("A001"), "MD", "A001", "冲突")
    with refused(app, "forbidden_scope"):
        app.withdraw_enrolment(teacher_actor("A002"), "K1", "A001", "冲突")
    with refused(app, "forbidden_scope"):
        app.withdraw_enrolment(PROVIDER, "K1", "A001", "冲突")
    with refused(app, "not_enrolled"):
        app.withdraw_enrolment(ADMIN, "K1", "A002", "冲突")
    with refused(app, "reason_required"):
        app.withdraw_enrolment(ADMIN, "K1", "A001", "  ")
    clock.set(date(2024, 3, 4), hour=8)  # the first day, Asia/Shanghai
    with refused(app, "programme_started"):
        app.withdraw_enrolment(ADMIN, "K1", "A001", "冲突")


# --- cancellation ----------------------------------------------------------------------------------
def test_a_cancelled_session_takes_its_hours_with_it(app: TrainRec, clock: Clock) -> None:
    """K1: sessions 1, 2, 3 of 8 h (24 h). Session 2 cancelled: 16 h in sessions 1 and 3; A001 present
    at both has an attendance rate of 1, and credit is checked against 16 h, not the 24 h the
    enrolment recorded."""
    build_county(app)
    define(app, "K1")
    app.enrol(ADMIN, "K1", "A001")
    answer = app.cancel_session(PROVIDER, "K1", 2, "讲师因病缺席")
    assert answer.status == 201
    assert (answer.body["hours"], [e["type"] for e in answer.body["events"]]) == (16, ["SessionCancelled"])
    programme = app.programme(ADMIN, "K1")
    assert (programme["hours"], [s["no"] for s in programme["sessions"]]) == (Decimal(16), [1, 3])
    assert programme["ends_on"] == date(2024, 3, 6)  # the programme's dates stay
    app.enrol(ADMIN, "K1", "A002")  # after the cancellation
    for day, no in ((date(2024, 3, 4), 1), (date(2024, 3, 6), 3)):
        clock.set(day, hour=18)
        app.record_attendance(PROVIDER, "K1", no, ["A001", "A002"], [])
    with refused(app, "session_cancelled"):
        app.record_attendance(PROVIDER, "K1", 2, ["A001"], [])
    roster = app.roster(PROVIDER, "K1")
    assert (roster["sessions"], roster["sessions_held"], roster["attendance_rate"]) == (2, 2, 1.0)
    assert [e["attendance_rate"] for e in roster["enrolled"]] == [1.0, 1.0]
    clock.set(date(2024, 3, 7))
    app.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.PASS)
    assessed = app.teacher_history(ADMIN, "A001")[-1]
    assert (assessed["type"], assessed["data"]["attendance_rate"]) == ("Assessed", "1.0000")  # 2 of 2, not 2 of 3
    with refused(app, "hours_exceed_programme"):
        app.award_credit(PROVIDER, "K1", "A001", Decimal("16.5"))
    assert app.award_credit(PROVIDER, "K1", "A001", Decimal(16)).status == 201
    assert app.transcript(ADMIN, "A001")["totals"]["by_year"]["2024"]["hours"] == 16
    _no_differences(app)


def test_cancellation_refusals(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    define(app, "K1")
    define(app, "ONE", days=1)
    with refused(app, "forbidden_scope"):
        app.cancel_session(OTHER_PROVIDER, "K1", 2, "缺席")
    with refused(app, "forbidden_scope"):
        app.cancel_session(teacher_actor("A001"), "K1", 2, "缺席")
    with refused(app, "reason_required"):
        app.cancel_session(PROVIDER, "K1", 2, "")
    with refused(app, "session_not_found"):
        app.cancel_session(PROVIDER, "K1", 9, "缺席")
    with refused(app, "last_session"):
        app.cancel_session(PROVIDER, "ONE", 1, "缺席")
    assert app.cancel_session(COUNTY_SUP, "K1", 3, "缺席").status == 201
    with refused(app, "session_cancelled"):
        app.cancel_session(PROVIDER, "K1", 3, "缺席")
    with refused(app, "session_cancelled"):
        app.reschedule_session(PROVIDER, "K1", 3, date(2024, 3, 5), "改期")
    app.cancel_session(PROVIDER, "K1", 2, "缺席")
    with refused(app, "last_session"):  # after 3 and 2, 1 is the last
        app.cancel_session(PROVIDER, "K1", 1, "缺席")
    clock.set(date(2024, 3, 4), hour=9)
    with refused(app, "session_held"):  # held on its day
        app.cancel_session(PROVIDER, "K1", 1, "缺席")


def test_the_four_commands_over_http(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    define(app, "K1")
    app.enrol(ADMIN, "K1", "A001")
    client = TestClient(create_app(app, SECRET), raise_server_exceptions=False)
    admin = bearer(ADMIN)
    cases = [
        ("/api/v1/teachers/A002/corrections", {"name": "王 芳", "reason": "登记有误"}, 201, None),
        ("/api/v1/teachers/A002/corrections", {"name": "王 芳", "reason": "登记有误"}, 422, "correction_unchanged"),
        ("/api/v1/teachers/A002/corrections", {"hired_on": "1900-01-01", "reason": "登记有误"}, 422,
         "invalid_hired_on"),
        ("/api/v1/teachers/A002/corrections", {"name": " ", "reason": "登记有误"}, 422, "invalid_name"),
        ("/api/v1/teachers/A003/departure", {"kind": "retired", "effective_on": "2024-02-01", "reason": "退休"},
         201, None),
        ("/api/v1/teachers/A003/departure", {"kind": "left", "effective_on": "2024-02-01", "reason": "离职"},
         409, "already_departed"),
        ("/api/v1/teachers/A002/departure", {"kind": "moved", "effective_on": "2024-02-01", "reason": "离职"},
         422, "invalid_input"),
        ("/api/v1/programmes/K1/enrolments", {"teacher_no": "A003"}, 409, "teacher_departed"),
        ("/api/v1/programmes/K1/enrolments/A001/withdrawal", {"reason": "冲突"}, 201, None),
        ("/api/v1/programmes/K1/enrolments/A001/withdrawal", {"reason": "冲突"}, 409, "not_enrolled"),
        ("/api/v1/programmes/K1/sessions/2/cancellation", {"reason": "讲师缺席"}, 201, None),
        ("/api/v1/programmes/K1/sessions/2/cancellation", {"reason": "讲师缺席"}, 409, "session_cancelled"),
        ("/api/v1/programmes/K1/sessions/2/cancellation", {}, 422, "invalid_input"),
    ]
    for path, body, status, code in cases:
        answer = client.post(path, json=body, headers=admin)
        assert answer.status_code == status, (path, body, answer.text)
        if code is not None:
            assert answer.json()["code"] == code, answer.text
    clock.set(date(2024, 3, 4), hour=9)
    started = client.post("/api/v1/programmes/K1/sessions/1/cancellation", json={"reason": "缺席"}, headers=admin)
    assert (started.status_code, started.json()["code"]) == (409, "session_held")
    app.enrol(ADMIN, "K1", "A002")
    late = client.post("/api/v1/programmes/K1/enrolments/A002/withdrawal", json={"reason": "冲突"}, headers=admin)
    assert (late.status_code, late.json()["code"]) == (409, "programme_started")
    for kind, reason in (("Corrected", "登记有误"), ("Departed", "退休"), ("EnrolmentWithdrawn", "冲突"),
                         ("SessionCancelled", "讲师缺席")):
        feed = client.get("/api/v1/audit/events", params={"type": kind}, headers=admin)
        assert feed.status_code == 200, feed.text
        assert [(e["type"], e["reason"]) for e in feed.json()["events"]] == [(kind, reason)]
    transcript = client.get("/api/v1/teachers/A003/transcript", headers=admin).json()
    assert transcript["departure"] == {"kind": "retired", "effective_on": "2024-02-01"}
