"""An auditor asks what S1's 2025 report said on 2026-01-31 and which late entries changed it since:
both answers from one store, hand-computed, on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from domain.vocabulary import AssessmentResult
from service.app import TrainRec
from tests.conftest import ADMIN, AUDITOR, PROVIDER, SCHOOL_ADMIN, Clock, build_county, define, teacher_actor

WHY = "2025年春季培训签到表遗漏，据纸质材料补录"
JAN_31 = datetime(2026, 1, 31, 15, 59, 59, 999999, tzinfo=UTC)  # the end of 2026-01-31 in Shanghai


def _figures(answer: dict[str, Any]) -> dict[str, Any]:
    return {f["rule"]: f["value"] for f in answer["figures"]}


def _spring_2025(app: TrainRec, clock: Clock) -> None:
    """K25 (2025-03-03 … 05, 3 × 8 h): A001 and A002 of S1 attend, pass, get 24 h and evaluate."""
    clock.set(date(2025, 2, 20))
    build_county(app)
    define(app, "K25", starts_on=date(2025, 3, 3))
    for no in ("A001", "A002"):
        app.enrol(SCHOOL_ADMIN, "K25", no)
    for session in (1, 2, 3):
        clock.set(date(2025, 3, 2 + session), hour=18)
        app.record_attendance(PROVIDER, "K25", session, ["A001", "A002"], [])
    clock.set(date(2025, 3, 6))
    for no in ("A001", "A002"):
        app.assess(PROVIDER, "K25", no, 4, 4, AssessmentResult.PASS)
        app.award_credit(PROVIDER, "K25", no, Decimal(24))
    clock.set(date(2025, 3, 10))
    for no in ("A001", "A002"):
        app.evaluate(teacher_actor(no), "K25", no, 5, 5, 5)


def _a003_entered_late(app: TrainRec, clock: Clock) -> None:
    """In February 2026 the school finds A003 on the paper sheets: enrolled, present at all three
    sessions, assessed and credited, each entered late, one write at a time."""
    clock.set(date(2026, 2, 15))
    app.enrol(SCHOOL_ADMIN, "K25", "A003", occurred_on=date(2025, 2, 25), late_reason=WHY)
    for session in (1, 2, 3):
        clock.tick()
        app.record_attendance(PROVIDER, "K25", session, ["A003"], [], late_reason=WHY)
    clock.tick()
    app.assess(PROVIDER, "K25", "A003", 4, 4, AssessmentResult.PASS, occurred_on=date(2025, 3, 6), late_reason=WHY)
    clock.tick()
    app.award_credit(PROVIDER, "K25", "A003", Decimal(24), occurred_on=date(2025, 3, 7), late_reason=WHY)


def test_the_2025_report_as_it_stood_on_january_31_and_the_late_entries_since(app: TrainRec, clock: Clock) -> None:
    _spring_2025(app, clock)
    _a003_entered_late(app, clock)
    then = app.compliance(AUDITOR, "S1", 2025, as_of=JAN_31)
    now = app.compliance(AUDITOR, "S1", 2025)
    assert then["teachers"] == now["teachers"] == 3
    assert _figures(then)["avg_hours_per_teacher"] == 16.0  # 48 h / 3
    assert _figures(now)["avg_hours_per_teacher"] == 24.0  # 72 h / 3
    assert (_figures(then)["participation_rate"], _figures(now)["participation_rate"]) == (1.0, 1.0)  # 2/2, 3/3
    assert (_figures(now)["overdue_assessments"], _figures(now)["overdue_evaluations"]) == (0, 1)  # A003's
    assert then["as_of"] == JAN_31.isoformat()

    changes = app.compliance_changes(AUDITOR, "S1", 2025, JAN_31)
    assert changes["figures_then"] == then["figures"]
    assert changes["figures_now"] == now["figures"]
    # the enrolment (participation 2/3, one assessment overdue), the first mark (3/3), the assessment
    # (no assessment overdue, one evaluation overdue) and the credit (72 h): not the second and
    # third marks, which moved no figure
    assert [(e["type"], e["teacher_no"], e["occurred_on"], e["late_entry"]) for e in changes["events"]] == [
        ("Enrolled", "A003", "2025-02-25", True),
        ("AttendanceRecorded", "A003", "2025-03-03", True),
        ("Assessed", "A003", "2025-03-06", True),
        ("CreditAwarded", "A003", "2025-03-07", True),
    ]
    assert {e["actor"]["sub"] for e in changes["events"]} == {"s1-admin", "p1"}
    history = {e["id"] for e in app.teacher_history(ADMIN, "A003")}
    assert {e["event_id"] for e in changes["events"]} <= history
    # the county's report moves with its school's
    county = app.compliance_changes(AUDITOR, "C1", 2025, date_end(2026, 1, 31))
    assert [e["type"] for e in county["events"]] == [e["type"] for e in changes["events"]]
    assert _figures({"figures": county["figures_then"]})["avg_hours_per_teacher"] == 8.0  # 48 h / 6


def date_end(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 15, 59, 59, 999999, tzinfo=UTC)


def test_the_roster_as_it_stood(app: TrainRec, clock: Clock) -> None:
    _spring_2025(app, clock)
    _a003_entered_late(app, clock)
    then = app.roster(AUDITOR, "K25", as_of=JAN_31)
    assert [e["teacher_no"] for e in then["enrolled"]] == ["A001", "A002"]
    assert then["counts"] == {"enrolled": 2, "approved_absences": 0, "attended": 2, "assessed": 2, "evaluated": 2}
    before_the_sheets = app.roster(AUDITOR, "K25", as_of=datetime(2025, 3, 4, 9, 0, tzinfo=UTC))  # 17:00 03-04
    assert [e["sessions_present"] for e in before_the_sheets["enrolled"]] == [1, 1]  # session 2 marked at 18:00
    assert before_the_sheets["sessions_held"] == 2
    now = app.roster(AUDITOR, "K25")
    assert [e["teacher_no"] for e in now["enrolled"]] == ["A001", "A002", "A003"]
