"""Each compliance figure on a small hand-computed county (docs/domain.md "Compliance figures").

Year 2024, county C1: T1 = S1 (A001 A002 A003) + S2 (B001), T2 = S3 (C001 C002); C001 moves
from S3 to S2 on 2024-06-01, so at the end of 2024 T1 has 5 teachers and T2 has 1.

| teacher | 2024 credits (valid)                       | enrolments ending in 2024            |
|---------|--------------------------------------------|--------------------------------------|
| A001    | SBD 8 designated, SBE 16 elective, P90 96  | SBD, SBE, P90 attended (ONL ends 2025) |
| A002    | SBD 8, SUB 24 (P90 96 revoked)             | SBD, P90, SUB (as substitute) attended |
| A003    | SBD 8                                      | SBD attended; SUB excused (substituted) |
| B001    | —                                          | P90 excused (approved leave)          |
| C001    | NYE 40 (2023-12-28 → 2024-01-04)           | NYE attended                          |
| C002    | —                                          | NYE not attended, leave rejected      |

Hand-computed for C1: 200 h / 6 = 33.3333; self-selected (P90 96 + NYE 40) / 6 = 22.6667;
concentrated ≥ 90 h: A001 → 1/6; designated ≥ 8: A001 A002 A003 → 3/6; elective ≥ 16: A001 → 1/6;
participation 8 attended / 9 counted; cycle on track (288 h by end of 2024): 0/6;
overdue assessments: C002 in NYE → 1; overdue evaluations: A002 in SUB, C001 in NYE → 2.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.policy import DEFAULT_POLICY, Policy
from domain.vocabulary import (
    AbsenceKind,
    Approver,
    AssessmentResult,
    Decision,
    Form,
    Level,
    SchoolBasedContent,
    Selection,
)
from projections.check import check
from service.app import TrainRec
from tests.conftest import (
    ADMIN,
    COUNTY_SUP,
    PROVIDER,
    SCHOOL_ADMIN,
    Backend,
    Clock,
    build_county,
    define,
    teacher_actor,
)

S1_ADMIN = SCHOOL_ADMIN
PASS = AssessmentResult.PASS


def attend(app: TrainRec, clock: Clock, code: str, actor: Any, sessions: int, present: list[str],
           absent: list[str] | None = None) -> None:
    programme = app.programme(ADMIN, code)
    for session in programme["sessions"][:sessions]:
        clock.set(session["on"], hour=18)
        app.record_attendance(actor, code, session["no"], present, absent or [])


def finish(app: TrainRec, clock: Clock, code: str, actor: Any, day: date, awards: dict[str, int]) -> None:
    clock.set(day)
    for teacher_no, hours in awards.items():
        app.assess(actor, code, teacher_no, 4, 4, PASS)
        app.award_credit(actor, code, teacher_no, Decimal(hours))


@pytest.fixture
def county_2024(app: TrainRec, clock: Clock) -> TrainRec:
    clock.set(date(2023, 12, 1))
    build_county(app)
    ev = teacher_actor
    # NYE: spans New Year, ends 2024-01-04, so it counts in 2024.
    define(app, "NYE", starts_on=date(2023, 12, 28), days=5, form=Form.WORKSHOP, provider_id="P1")
    app.enrol(ev("C001"), "NYE", "C001")
    app.enrol(ev("C002"), "NYE", "C002")
    app.request_absence(ev("C002"), "NYE", "C002", AbsenceKind.LEAVE, "家中有事")
    app.decide_absence(ADMIN, "NYE", "C002", Approver.SCHOOL, Decision.APPROVED)
    app.decide_absence(PROVIDER, "NYE", "C002", Approver.PROVIDER, Decision.REJECTED, "非必要")
    attend(app, clock, "NYE", PROVIDER, 5, ["C001"], ["C002"])
    finish(app, clock, "NYE", PROVIDER, date(2024, 1, 5), {"C001": 40})

    clock.set(date(2024, 2, 20))
    for code, content, days in (("SBD", SchoolBasedContent.DESIGNATED, 1), ("SBE", SchoolBasedContent.ELECTIVE, 2)):
        define(app, code, starts_on=date(2024, 3, 4), days=days, level=Level.SCHOOL, form=Form.SCHOOL_BASED,
               selection=Selection.SCHOOL_BASED, content=content, provider_id="S1", owner_org_id="S1", actor=S1_ADMIN)
        app.decide_programme(COUNTY_SUP, code, Decision.APPROVED, "校本研修方案合格")
    for teacher_no in ("A001", "A002", "A003"):
        app.enrol(S1_ADMIN, "SBD", teacher_no)
    app.enrol(S1_ADMIN, "SBE", "A001")
    define(app, "P90", starts_on=date(2024, 7, 1), days=12, provider_id="P1")  # 96 h concentrated, self-selected
    for teacher_no in ("A001", "A002", "B001"):
        app.enrol(ev(teacher_no), "P90", teacher_no)
    attend(app, clock, "SBD", S1_ADMIN, 1, ["A001", "A002", "A003"])
    attend(app, clock, "SBE", S1_ADMIN, 2, ["A001"])
    finish(app, clock, "SBD", S1_ADMIN, date(2024, 3, 6), {"A001": 8, "A002": 8, "A003": 8})
    finish(app, clock, "SBE", S1_ADMIN, date(2024, 3, 6), {"A001": 16})
    for teacher_no in ("A001", "A002", "A003"):
        app.evaluate(ev(teacher_no), "SBD", teacher_no, 5, 5, 5)
    app.evaluate(ev("A001"), "SBE", "A001", 4, 4, 4)

    clock.set(date(2024, 6, 1))
    app.transfer_teacher(ADMIN, "C001", "S2", date(2024, 6, 1))
    app.request_absence(ADMIN, "P90", "B001", AbsenceKind.LEAVE, "产假")
    app.decide_absence(ADMIN, "P90", "B001", Approver.SCHOOL, Decision.APPROVED)
    app.decide_absence(PROVIDER, "P90", "B001", Approver.PROVIDER, Decision.APPROVED)
    attend(app, clock, "P90", PROVIDER, 12, ["A001", "A002"])
    finish(app, clock, "P90", PROVIDER, date(2024, 7, 13), {"A001": 96, "A002": 96})
    for teacher_no in ("A001", "A002"):
        app.evaluate(ev(teacher_no), "P90", teacher_no, 5, 4, 4)
    a002_p90 = next(line for line in app.transcript(ADMIN, "A002")["lines"] if line["programme_code"] == "P90")
    clock.set(date(2024, 8, 1))
    app.revoke_credit(COUNTY_SUP, "A002", a002_p90["credit_id"], "签到记录不实")

    define(app, "SUB", starts_on=date(2024, 9, 9), selection=Selection.MANDATED, provider_id="P1")  # 24 h
    app.enrol(S1_ADMIN, "SUB", "A003")
    app.request_absence(S1_ADMIN, "SUB", "A003", AbsenceKind.SUBSTITUTION, "承担毕业班教学", "A002")
    app.decide_absence(S1_ADMIN, "SUB", "A003", Approver.SCHOOL, Decision.APPROVED)
    app.decide_absence(PROVIDER, "SUB", "A003", Approver.PROVIDER, Decision.APPROVED)
    attend(app, clock, "SUB", PROVIDER, 3, ["A002"])
    finish(app, clock, "SUB", PROVIDER, date(2024, 9, 12), {"A002": 24})

    clock.set(date(2024, 12, 1))
    define(app, "ONL", starts_on=date(2024, 12, 28), days=7, hours_per_day=4, level=Level.PROVINCIAL,
           form=Form.ONLINE, selection=Selection.MANDATED, provider_id="P1")  # ends 2025-01-03: counts in 2025
    app.enrol(ADMIN, "ONL", "A001")
    attend(app, clock, "ONL", PROVIDER, 7, ["A001"])
    finish(app, clock, "ONL", PROVIDER, date(2025, 1, 3), {"A001": 28})
    app.evaluate(ev("A001"), "ONL", "A001", 5, 5, 5)
    clock.set(date(2025, 2, 1))
    return app


def figures(report: dict[str, Any]) -> dict[str, Any]:
    return {f["rule"]: f for f in report["figures"]}


def test_county_figures_match_the_hand_computation(county_2024: TrainRec) -> None:
    report = county_2024.compliance(COUNTY_SUP, "C1", 2024)
    assert report["teachers"] == 6
    f = figures(report)
    assert (f["avg_hours_per_teacher"]["numerator"], f["avg_hours_per_teacher"]["denominator"]) == (200, 6)
    assert f["avg_hours_per_teacher"]["value"] == 33.3333
    assert f["avg_self_selected_hours"]["value"] == 22.6667
    assert f["share_concentrated_90h"]["numerator"] == 1
    assert f["share_school_based_designated"]["numerator"] == 3
    assert f["share_school_based_elective"]["numerator"] == 1
    assert (f["participation_rate"]["numerator"], f["participation_rate"]["denominator"]) == (8, 9)
    assert f["participation_rate"]["value"] == 0.8889
    assert f["share_cycle_on_track"]["numerator"] == 0
    assert f["overdue_assessments"]["value"] == 1
    assert f["overdue_evaluations"]["value"] == 2
    assert not any(fig["met"] for fig in report["figures"])
    assert report["policy_version"] == county_2024.policy.version


def test_shortfalls_name_the_teachers_behind_each_figure(county_2024: TrainRec) -> None:
    short = {s["rule"]: s["teacher_nos"] for s in county_2024.compliance(ADMIN, "C1", 2024)["shortfalls"]}
    assert short["share_concentrated_90h"] == ["A002", "A003", "B001", "C001", "C002"]
    assert short["share_school_based_elective"] == ["A002", "A003", "B001", "C001", "C002"]
    assert short["share_school_based_designated"] == ["B001", "C001", "C002"]
    assert short["participation_rate"] == ["C002"]
    assert short["overdue_assessments"] == ["C002"]
    assert short["overdue_evaluations"] == ["A002", "C001"]
    assert len(short["share_cycle_on_track"]) == 6


def test_children_carry_figures_but_no_lists(county_2024: TrainRec) -> None:
    """The shortfalls are the unit's own teachers; its children give figures with their numerators
    and denominators, and whoever wants a child's teachers asks for the child."""
    report = county_2024.compliance(ADMIN, "C1", 2024)
    for child in report["children"]:
        assert "shortfalls" not in child
        assert all({"numerator", "denominator"} <= set(figure) for figure in child["figures"])
        assert not any(isinstance(value, list) for figure in child["figures"] for value in figure.values())
    t1 = county_2024.compliance(ADMIN, "T1", 2024)
    assert {n for s in t1["shortfalls"] for n in s["teacher_nos"]} <= {"A001", "A002", "A003", "B001", "C001"}


def test_transfer_within_the_year_counts_the_teacher_where_they_are_at_year_end(county_2024: TrainRec) -> None:
    report = county_2024.compliance(ADMIN, "C1", 2024)
    children = {c["org_id"]: c for c in report["children"]}
    assert children["T1"]["teachers"] == 5
    assert children["T2"]["teachers"] == 1
    t1 = figures(children["T1"])
    assert (t1["avg_hours_per_teacher"]["numerator"], t1["avg_hours_per_teacher"]["denominator"]) == (200, 5)
    t2 = figures(children["T2"])
    assert t2["avg_hours_per_teacher"]["numerator"] == 0
    assert (t2["participation_rate"]["numerator"], t2["participation_rate"]["denominator"]) == (0, 1)
    s2 = county_2024.compliance(ADMIN, "S2", 2024)
    assert s2["teachers"] == 2
    assert figures(s2)["avg_self_selected_hours"]["numerator"] == 40
    assert "P1" not in children  # providers are not part of the roll-up


def test_programme_spanning_new_year_counts_in_the_year_it_ends(county_2024: TrainRec) -> None:
    f2025 = figures(county_2024.compliance(ADMIN, "C1", 2025))
    assert f2025["avg_hours_per_teacher"]["numerator"] == 28
    f2023 = figures(county_2024.compliance(ADMIN, "C1", 2023))
    assert f2023["avg_hours_per_teacher"]["numerator"] == 0


def test_roster_shows_absences_substitutes_and_participation(county_2024: TrainRec) -> None:
    roster = county_2024.roster(PROVIDER, "SUB")
    by_teacher = {e["teacher_no"]: e for e in roster["enrolled"]}
    assert by_teacher["A002"]["substitutes_for"] == "A003"
    assert by_teacher["A003"]["absence"] == {
        "kind": "substitution", "status": "approved", "substitute_teacher_no": "A002"}
    assert roster["participation_rate"] == 1.0
    assert roster["overdue_evaluations"] == ["A002"]
    nye = county_2024.roster(PROVIDER, "NYE")
    assert nye["participation_rate"] == 0.5
    assert nye["overdue_assessments"] == ["C002"]
    assert nye["absences"][0]["status"] == "rejected"


def test_transcript_from_the_tables_equals_the_replay(county_2024: TrainRec) -> None:
    for teacher_no in ("A001", "A002", "A003", "B001", "C001", "C002"):
        table = county_2024.transcript(ADMIN, teacher_no)
        replay = county_2024.transcript_replay(teacher_no)
        assert table["lines"] == replay["lines"]
        assert table["totals"] == replay["totals"]
        assert table["pending_evaluation"] == replay["pending_evaluation"]


def test_cycle_hours_count_the_cycles_earlier_years_only(app: TrainRec, clock: Clock) -> None:
    """share_cycle_on_track sums the hours of the cycle (2021–2025) up to the year's end: a year
    without hours still counts the earlier years of its cycle, and a year of the previous cycle
    (2020) never counts. A001: 152 h in 2021, nothing in 2022; A002: 152 h in 2020 and 8 h in 2021."""
    clock.set(date(2020, 2, 3))
    build_county(app)
    for code, starts, days, teachers in (("P20", date(2020, 3, 2), 19, ["A002"]),
                                         ("P21", date(2021, 3, 1), 19, ["A001"]),
                                         ("S21", date(2021, 5, 10), 1, ["A002"])):
        clock.set(date(starts.year, 2, 1))
        define(app, code, starts_on=starts, days=days)
        for teacher_no in teachers:
            app.enrol(ADMIN, code, teacher_no)
        attend(app, clock, code, PROVIDER, days, teachers)
        finish(app, clock, code, PROVIDER, starts + timedelta(days=days), dict.fromkeys(teachers, 8 * days))
        for teacher_no in teachers:
            app.evaluate(teacher_actor(teacher_no), code, teacher_no, 5, 5, 5)
    clock.set(date(2023, 3, 1))

    def behind(year: int) -> list[str]:
        answer = app.compliance(ADMIN, "S1", year)
        return next(s["teacher_nos"] for s in answer["shortfalls"] if s["rule"] == "share_cycle_on_track")

    assert behind(2021) == ["A002", "A003"]  # 72 h needed: A001 has 152, A002 8 (2020's 152 are another cycle's)
    assert behind(2022) == ["A002", "A003"]  # 144 h needed: A001 still has 152, all from 2021
    assert behind(2020) == ["A001", "A002", "A003"]  # 2016–2020 needs 360 h: A002 has 152
    assert check(app.read_model)[1] == []  # rm_teacher_years.cycle_x10 as the replay says, per cycle


def test_teacher_years_follow_the_policys_year_start_until_a_rebuild(durable_backend: Backend, clock: Clock) -> None:
    """Under a school-year policy (years from September 1) an enrolment in a programme ending on
    2024-03-06 counts in 2023. Reopened under the calendar-year policy the rows stay as they were
    derived; `rebuild` derives them again: the enrolment then counts in 2024 (the credit keeps the
    year it recorded when awarded)."""
    school_years = Policy.model_validate({**DEFAULT_POLICY.model_dump(mode="json"), "version": "school-year-1",
                                          "year_starts": {"month": 9, "day": 1}})
    storage = durable_backend.fresh()
    app = TrainRec(storage, policy=school_years, clock=clock)
    build_county(app)
    define(app, "K1")
    app.enrol(ADMIN, "K1", "A001")
    clock.set(date(2024, 3, 7))
    app.assess(ADMIN, "K1", "A001", 4, 4, PASS)
    app.award_credit(ADMIN, "K1", "A001", Decimal(24))

    def years(service: TrainRec) -> list[tuple[Any, ...]]:
        service.read_model.catch_up()
        return [tuple(row) for row in service.read_model.db.query(
            f"SELECT year, hours_x10, enrolments_counted FROM {service.read_model.prefix}teacher_years "
            "WHERE teacher_no = ? ORDER BY year", ("A001",))]

    assert years(app) == [(2023, 240, 1)]
    app.close()
    calendar = TrainRec(storage, clock=clock)
    try:
        assert years(calendar) == [(2023, 240, 1)]
        calendar.read_model.rebuild()
        assert years(calendar) == [(2023, 240, 0), (2024, 0, 1)]
    finally:
        calendar.close()


def test_participation_counts_only_programmes_ended_before_the_report_day(app: TrainRec, clock: Clock) -> None:
    """S1 in 2024: EARLY (ends 03-04) with A001 present; LATE (11-04 → 11-06) with A001 present and
    A002 never. Before LATE has ended it counts nowhere: 1 attended / 1 counted, met, nobody short.
    On LATE's last day it has not ended yet (still 1/1); the day after, 2 attended / 3 counted."""
    clock.set(date(2024, 2, 1))
    build_county(app)
    define(app, "EARLY", starts_on=date(2024, 3, 4), days=1)
    define(app, "LATE", starts_on=date(2024, 11, 4), days=3)
    app.enrol(ADMIN, "EARLY", "A001")
    for teacher_no in ("A001", "A002"):
        app.enrol(ADMIN, "LATE", teacher_no)
    attend(app, clock, "EARLY", PROVIDER, 1, ["A001"])

    def participation() -> tuple[Any, Any, bool, list[str]]:
        answer = app.compliance(ADMIN, "S1", 2024)
        figure = figures(answer)["participation_rate"]
        short = next((s["teacher_nos"] for s in answer["shortfalls"] if s["rule"] == "participation_rate"), [])
        return figure["numerator"], figure["denominator"], figure["met"], short

    clock.set(date(2024, 6, 1))
    assert participation() == (1, 1, True, [])
    attend(app, clock, "LATE", PROVIDER, 3, ["A001"], ["A002"])  # leaves the clock on 2024-11-06
    assert participation() == (1, 1, True, [])
    clock.set(date(2024, 11, 7))
    assert participation() == (2, 3, False, ["A002"])
    assert figures(app.compliance(ADMIN, "C1", 2024))["participation_rate"]["denominator"] == 3
    assert figures(app.compliance(ADMIN, "S1", 2023))["participation_rate"]["denominator"] == 0


def test_participation_of_a_year_not_begun_counts_nothing(app: TrainRec, clock: Clock) -> None:
    """A report on 2024-06-01 for 2025 sees no ended programme of 2025: 0 / 0, whatever 2024 holds
    (LATE ends in November 2024, after the report's day, and belongs to 2024's figures only)."""
    clock.set(date(2024, 2, 1))
    build_county(app)
    define(app, "LATE", starts_on=date(2024, 11, 4), days=3)
    app.enrol(ADMIN, "LATE", "A001")
    clock.set(date(2024, 6, 1))
    figure = figures(app.compliance(ADMIN, "S1", 2025))["participation_rate"]
    assert (figure["numerator"], figure["denominator"], figure["value"]) == (0, 0, None)
