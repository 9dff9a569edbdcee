"""Readings a county auditor would check: gating in the history, 校本 never self-selected, who counts in a past year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.vocabulary import AssessmentResult, Decision, Form, Level, SchoolBasedContent, Selection
from service.app import TrainRec
from tests.conftest import ADMIN, COUNTY_SUP, PROVIDER, SCHOOL_ADMIN, Clock, build_county, define, teacher_actor


def _assessed_and_credited(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    define(app, "K1")
    app.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 6), hour=18)
    app.record_attendance(PROVIDER, "K1", 1, ["A001"], [])
    app.assess(PROVIDER, "K1", "A001", 4, 4, AssessmentResult.GOOD)
    app.award_credit(PROVIDER, "K1", "A001", Decimal(24))


def test_the_trainee_history_hides_results_until_evaluated(app: TrainRec, clock: Clock) -> None:
    _assessed_and_credited(app, clock)
    mine = {h["type"]: h for h in app.teacher_history(teacher_actor("A001"), "A001")}
    assert mine["Assessed"]["data"] == {"programme_code": "K1", "hidden_until": "evaluated"}
    assert mine["CreditAwarded"]["data"] == {"programme_code": "K1", "hidden_until": "evaluated"}
    school_view = {h["type"]: h for h in app.teacher_history(SCHOOL_ADMIN, "A001")}
    assert school_view["Assessed"]["data"]["result"] == "good"
    app.evaluate(teacher_actor("A001"), "K1", "A001", 5, 5, 5)
    mine = {h["type"]: h for h in app.teacher_history(teacher_actor("A001"), "A001")}
    assert mine["CreditAwarded"]["data"]["hours"] == "24"


def test_school_based_hours_never_count_as_self_selected(app: TrainRec, clock: Clock) -> None:
    build_county(app)
    define(app, "SB", level=Level.SCHOOL, form=Form.SCHOOL_BASED, selection=Selection.SELF_SELECTED,
           content=SchoolBasedContent.ELECTIVE, provider_id="S1", owner_org_id="S1", days=2)
    app.decide_programme(COUNTY_SUP, "SB", Decision.APPROVED, "合格")
    app.enrol(ADMIN, "SB", "A001")
    clock.set(date(2024, 3, 5), hour=18)
    app.record_attendance(SCHOOL_ADMIN, "SB", 1, ["A001"], [])
    app.assess(SCHOOL_ADMIN, "SB", "A001", 4, 4, AssessmentResult.PASS)
    app.award_credit(SCHOOL_ADMIN, "SB", "A001", Decimal(16))
    figures = {f["rule"]: f for f in app.compliance(ADMIN, "S1", 2024)["figures"]}
    assert figures["avg_self_selected_hours"]["numerator"] == 0
    assert figures["share_school_based_elective"]["numerator"] == 1
    totals = app.transcript(ADMIN, "A001")["totals"]["by_year"]["2024"]
    assert (totals["self_selected"], totals["school_based"]) == (0, 16)
    assert app.transcript_replay("A001")["totals"]["by_year"]["2024"] == totals


def test_a_teacher_registered_later_without_hire_date_is_not_counted_in_earlier_years(
    app: TrainRec, clock: Clock
) -> None:
    build_county(app)  # teachers hired 2015
    app.register_teacher(ADMIN, "N001", "新教师", "S1")  # registered 2024-02-20, no hire date
    assert app.compliance(ADMIN, "S1", 2023)["teachers"] == 3
    assert app.compliance(ADMIN, "S1", 2024)["teachers"] == 4


def test_roster_lists_assessed_and_evaluated_teachers(app: TrainRec, clock: Clock) -> None:
    _assessed_and_credited(app, clock)
    roster = app.roster(PROVIDER, "K1")
    assert roster["assessed"] == ["A001"]
    assert roster["evaluated"] == []
