"""Every compliance figure of a school, value and `met`, against a hand computation, with each
teacher placed at or 0.1 h below a per-teacher limit: a single concentrated credit of 90 h, 8 h of
designated and 16 h of elective school-based training, and the cycle's 360 h × elapsed years / 5
by the year's end. (The unit-wide thresholds, 76 h, 0.22, 0.95 …, are met or not in
`Tally.summary`, whose edges tests/projections/test_compliance_tally.py pins without a store.)"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from domain.policy import DEFAULT_POLICY, Cycle, Policy, Thresholds
from domain.vocabulary import Form, Level, SchoolBasedContent, Selection
from service.app import TrainRec
from tests.conftest import ADMIN, Backend, Clock, build_county
from tests.projections.training import figures_of, run_programme, shortfalls_of

SCHOOL = {"level": Level.SCHOOL, "form": Form.SCHOOL_BASED, "selection": Selection.SCHOOL_BASED}
DESIGNATED = {**SCHOOL, "content": SchoolBasedContent.DESIGNATED}
ELECTIVE = {**SCHOOL, "content": SchoolBasedContent.ELECTIVE}


def figure(value: float | None, threshold: float, met: bool, numerator: float, denominator: int | None
           ) -> dict[str, object]:
    return {"value": value, "threshold": threshold, "met": met, "numerator": numerator, "denominator": denominator}


@pytest.fixture
def s1_at_the_edges(app: TrainRec, clock: Clock) -> TrainRec:
    """S1 (A001 A002 A003), credits by year (all 2024 programmes end in the spring term):

    | programme | kind                              | A001 | A002  | A003            |
    |-----------|-----------------------------------|------|-------|-----------------|
    | P22 2022  | concentrated, self-selected 180 h | 174  | 174.2 | —               |
    | SBD 2024  | school-based designated 8 h       | 8    | 7.9   | 8               |
    | SBE 2024  | school-based elective 16 h        | 16   | 15.9  | —               |
    | P90 2024  | concentrated, self-selected 90 h  | 90   | 89.9  | 45              |
    | P45 2024  | concentrated, self-selected 45 h  | —    | —     | 45              |
    | MISS 2024 | online, mandated 8 h              | —    | —     | absent, not assessed |

    A002 never evaluates SBE. Read on 2025-02-01."""
    clock.set(date(2022, 1, 10))
    build_county(app)
    run_programme(app, clock, "P22", starts_on=date(2022, 3, 7), days=3, hours_per_day=60,
                  awards={"A001": "174", "A002": "174.2"})
    run_programme(app, clock, "SBD", starts_on=date(2024, 3, 4), owner="S1", provider="S1", **DESIGNATED,
                  awards={"A001": "8", "A002": "7.9", "A003": "8"})
    run_programme(app, clock, "SBE", starts_on=date(2024, 3, 11), days=2, owner="S1", provider="S1", **ELECTIVE,
                  awards={"A001": "16", "A002": "15.9"}, evaluated=["A001"])
    run_programme(app, clock, "P90", starts_on=date(2024, 3, 18), days=3, hours_per_day=30,
                  awards={"A001": "90", "A002": "89.9", "A003": "45"})
    run_programme(app, clock, "P45", starts_on=date(2024, 4, 8), days=3, hours_per_day=15, awards={"A003": "45"})
    run_programme(app, clock, "MISS", starts_on=date(2024, 5, 6), form=Form.ONLINE, selection=Selection.MANDATED,
                  absent=["A003"])
    clock.set(date(2025, 2, 1))
    return app


def test_each_figure_of_a_school_equals_the_hand_computation(s1_at_the_edges: TrainRec) -> None:
    answer = s1_at_the_edges.compliance(ADMIN, "S1", 2024)
    assert answer["teachers"] == 3
    assert figures_of(answer) == {
        # hours: A001 8 + 16 + 90 = 114, A002 7.9 + 15.9 + 89.9 = 113.7, A003 8 + 45 + 45 = 98;
        # 325.7 / 3 = 108.5667 ≥ 76 (325.7 ≥ 228)
        "avg_hours_per_teacher": figure(108.5667, 76.0, True, 325.7, 3),
        # self-selected (school-based never is): A001 90, A002 89.9, A003 45 + 45 = 90; 269.9 / 3 = 89.9667
        "avg_self_selected_hours": figure(89.9667, 38.0, True, 269.9, 3),
        # one credit of ≥ 90 h: A001 (exactly 90); A002 89.9; A003 45 twice is not one of 90; 1 ≥ 0.22 × 3
        "share_concentrated_90h": figure(0.3333, 0.22, True, 1, 3),
        # designated ≥ 8 h: A001 8, A003 8; A002 7.9 is not
        "share_school_based_designated": figure(0.6667, 1.0, False, 2, 3),
        # elective ≥ 16 h: A001 16; A002 15.9 and A003 0 are not
        "share_school_based_elective": figure(0.3333, 1.0, False, 1, 3),
        # enrolments ending in 2024: A001 3, A002 3 attended; A003 4, MISS not attended: 9 / 10 < 0.95
        "participation_rate": figure(0.9, 0.95, False, 9, 10),
        # 2024 is year 4 of 2021–2025: 360 × 4 / 5 = 288 h; A001 174 + 114 = 288 (exactly),
        # A002 174.2 + 113.7 = 287.9, A003 98
        "share_cycle_on_track": figure(0.3333, 1.0, False, 1, 3),
        # MISS ended 2024-05-06, A003 not assessed (due 2024-05-11)
        "overdue_assessments": figure(1, 0, False, 1, None),
        # SBE ended 2024-03-12, A002 assessed, not evaluated (due 2024-03-22)
        "overdue_evaluations": figure(1, 0, False, 1, None),
    }
    assert shortfalls_of(answer) == {
        "share_concentrated_90h": ["A002", "A003"],
        "share_school_based_designated": ["A002"],
        "share_school_based_elective": ["A002", "A003"],
        "participation_rate": ["A003"],
        "share_cycle_on_track": ["A002", "A003"],
        "overdue_assessments": ["A003"],
        "overdue_evaluations": ["A002"],
    }


def test_an_earlier_year_of_the_cycle_needs_its_share_of_the_360_hours(s1_at_the_edges: TrainRec) -> None:
    answer = s1_at_the_edges.compliance(ADMIN, "S1", 2022)
    assert figures_of(answer) == {
        # A001 174 + A002 174.2 = 348.2 (A003 none); 348.2 / 3 = 116.0667, all of it self-selected
        "avg_hours_per_teacher": figure(116.0667, 76.0, True, 348.2, 3),
        "avg_self_selected_hours": figure(116.0667, 38.0, True, 348.2, 3),
        "share_concentrated_90h": figure(0.6667, 0.22, True, 2, 3),
        "share_school_based_designated": figure(0.0, 1.0, False, 0, 3),
        "share_school_based_elective": figure(0.0, 1.0, False, 0, 3),
        "participation_rate": figure(1.0, 0.95, True, 2, 2),
        # year 2 of 2021–2025: 360 × 2 / 5 = 144 h; A001 174, A002 174.2; A003 none
        "share_cycle_on_track": figure(0.6667, 1.0, False, 2, 3),
        "overdue_assessments": figure(0, 0, True, 0, None),
        "overdue_evaluations": figure(0, 0, True, 0, None),
    }
    assert shortfalls_of(answer)["share_cycle_on_track"] == ["A003"]


def test_a_year_without_hours_counts_those_of_the_cycles_earlier_years_only(s1_at_the_edges: TrainRec) -> None:
    # 2023 (year 3: 360 × 3 / 5 = 216 h) has no credits: A001 and A002 have their 2022 hours (174, 174.2),
    # not those of 2024 (288, 287.9)
    answer = s1_at_the_edges.compliance(ADMIN, "S1", 2023)
    assert figures_of(answer)["share_cycle_on_track"] == figure(0.0, 1.0, False, 0, 3)
    assert figures_of(answer)["avg_hours_per_teacher"] == figure(0.0, 76.0, False, 0, 3)


def test_the_last_year_of_the_cycle_needs_all_360_hours(s1_at_the_edges: TrainRec) -> None:
    # 2025 (no credits): A001 has 288 of the 360 h, A002 287.9, A003 98
    answer = s1_at_the_edges.compliance(ADMIN, "S1", 2025)
    assert figures_of(answer)["share_cycle_on_track"] == figure(0.0, 1.0, False, 0, 3)
    assert figures_of(answer)["participation_rate"] == figure(None, 0.95, False, 0, 0)
    # 2026 starts the next cycle: the 2021–2025 hours no longer count, and 72 h are needed
    assert shortfalls_of(s1_at_the_edges.compliance(ADMIN, "S1", 2026))["share_cycle_on_track"] == [
        "A001", "A002", "A003"]


def test_a_school_meeting_all_nine_figures(app: TrainRec, clock: Clock) -> None:
    """S2's one teacher, B001, in 2021 (year 1 of 2021–2025: 72 h): 8 h designated, 16 h elective and
    90 h concentrated self-selected, each attended, assessed and evaluated."""
    clock.set(date(2021, 1, 4))
    build_county(app)
    run_programme(app, clock, "D21", starts_on=date(2021, 3, 8), owner="S2", provider="S2", **DESIGNATED,
                  awards={"B001": "8"})
    run_programme(app, clock, "E21", starts_on=date(2021, 3, 15), days=2, owner="S2", provider="S2", **ELECTIVE,
                  awards={"B001": "16"})
    run_programme(app, clock, "C21", starts_on=date(2021, 4, 12), days=3, hours_per_day=30, awards={"B001": "90"})
    clock.set(date(2022, 1, 20))
    answer = app.compliance(ADMIN, "S2", 2021)
    assert answer["teachers"] == 1
    assert figures_of(answer) == {
        "avg_hours_per_teacher": figure(114.0, 76.0, True, 114, 1),  # 8 + 16 + 90
        "avg_self_selected_hours": figure(90.0, 38.0, True, 90, 1),
        "share_concentrated_90h": figure(1.0, 0.22, True, 1, 1),
        "share_school_based_designated": figure(1.0, 1.0, True, 1, 1),
        "share_school_based_elective": figure(1.0, 1.0, True, 1, 1),
        "participation_rate": figure(1.0, 0.95, True, 3, 3),
        "share_cycle_on_track": figure(1.0, 1.0, True, 1, 1),  # 114 ≥ 72
        "overdue_assessments": figure(0, 0, True, 0, None),
        "overdue_evaluations": figure(0, 0, True, 0, None),
    }
    assert answer["shortfalls"] == []
    county = app.compliance(ADMIN, "C1", 2021)  # the same sums rolled up: S2's is T1's only training
    assert {key: county[key] for key in ("org_id", "name", "kind", "year", "teachers")} == {
        "org_id": "C1", "name": "示范县", "kind": "county", "year": 2021, "teachers": 6}
    assert [{key: kid[key] for key in ("org_id", "name", "kind", "teachers")} for kid in county["children"]] == [
        {"org_id": "T1", "name": "城关镇", "kind": "town", "teachers": 4},
        {"org_id": "T2", "name": "河西镇", "kind": "town", "teachers": 2}]
    assert all(set(kid) == {"org_id", "name", "kind", "teachers", "figures"} for kid in county["children"])
    t1 = next(kid for kid in county["children"] if kid["org_id"] == "T1")
    # T1: A001 A002 A003 B001, 114 h in all: 28.5 a teacher; only B001 on track (1 < 4 × 1.0)
    assert figures_of(t1)["avg_hours_per_teacher"] == figure(28.5, 76.0, False, 114, 4)
    assert figures_of(t1)["share_cycle_on_track"] == figure(0.25, 1.0, False, 1, 4)
    assert figures_of(t1)["participation_rate"] == figure(1.0, 0.95, True, 3, 3)


def test_limits_that_are_not_whole_tenths_round_up(backend: Backend, clock: Clock) -> None:
    """A 3-year cycle of 100 h needs 100 × 1 / 3 = 33.33… h after its first year, which is 33.4 h, the
    next tenth up (and 66.7 h after two); a concentrated limit of 89.91 h needs a credit of 90 h."""
    policy = Policy(version="edges-1", cycle=Cycle(length_years=3, required=Decimal(100), first_start_year=2024),
                    terms=DEFAULT_POLICY.terms, deadlines=DEFAULT_POLICY.deadlines,
                    thresholds=Thresholds(concentrated_min_hours=Decimal("89.91")))
    app = TrainRec(backend.fresh(), policy=policy, clock=clock)
    online = {"form": Form.ONLINE, "selection": Selection.MANDATED}
    try:
        clock.set(date(2024, 1, 8))
        build_county(app)
        run_programme(app, clock, "O24", starts_on=date(2024, 3, 4), days=5, **online,
                      awards={"A001": "33.4", "A002": "33.3"})
        run_programme(app, clock, "C24", starts_on=date(2024, 4, 8), days=3, hours_per_day=30,
                      awards={"A003": "90", "B001": "89.9"})
        run_programme(app, clock, "O25", starts_on=date(2025, 3, 3), days=5, **online,
                      awards={"A001": "33.3", "A002": "33.3"})
        clock.set(date(2026, 12, 31))

        def short(org_id: str, year: int, rule: str = "share_cycle_on_track") -> list[str]:
            return shortfalls_of(app.compliance(ADMIN, org_id, year)).get(rule, [])

        assert short("S1", 2024) == ["A002"]  # 33.4 h needed: A001 33.4, A002 33.3, A003 90
        assert short("S1", 2025) == ["A002"]  # 66.7 h needed: A001 66.7, A002 66.6, A003 90
        assert short("S1", 2026) == ["A001", "A002", "A003"]  # 100 h needed
        assert short("S1", 2024, "share_concentrated_90h") == ["A001", "A002"]  # A003's 90 h count
        assert short("S2", 2024, "share_concentrated_90h") == ["B001"]  # 89.9 < 89.91
    finally:
        app.close()


def test_assessments_and_evaluations_are_overdue_the_day_after_they_are_due(app: TrainRec, clock: Clock) -> None:
    """DL ends 2024-06-05: A001 is not assessed (due 2024-06-10, 5 days), A002 is assessed but does
    not evaluate (due 2024-06-15, 10 days)."""
    clock.set(date(2024, 5, 6))
    build_county(app)
    run_programme(app, clock, "DL", starts_on=date(2024, 6, 5), enrolled=["A001"], awards={"A002": "8"},
                  evaluated=[])

    def overdue(day: date) -> tuple[object, object]:
        clock.set(day)
        f = figures_of(app.compliance(ADMIN, "S1", 2024))
        return f["overdue_assessments"]["value"], f["overdue_evaluations"]["value"]

    assert overdue(date(2024, 6, 10)) == (0, 0)
    assert overdue(date(2024, 6, 11)) == (1, 0)
    assert overdue(date(2024, 6, 15)) == (1, 0)
    assert overdue(date(2024, 6, 16)) == (1, 1)


def test_members_are_those_of_the_years_last_day_so_far(app: TrainRec, clock: Clock) -> None:
    """C001 moves from S3 to S1 on 2024-06-01 and B001 from S2 to S1 on 2025-03-01; S1 starts with
    A001 A002 A003. A year's members are those posted there on its last day, or today while it runs."""
    clock.set(date(2024, 1, 1))
    build_county(app)
    clock.set(date(2024, 6, 1))
    app.transfer_teacher(ADMIN, "C001", "S1", date(2024, 6, 1))
    clock.set(date(2025, 3, 1))
    app.transfer_teacher(ADMIN, "B001", "S1", date(2025, 3, 1))

    def teachers(year: int, day: date) -> int:
        clock.set(day)
        return int(app.compliance(ADMIN, "S1", year)["teachers"])

    assert teachers(2024, date(2024, 1, 1)) == 3  # the year's first day
    assert teachers(2024, date(2024, 5, 31)) == 3
    assert teachers(2024, date(2024, 6, 1)) == 4
    assert teachers(2024, date(2024, 12, 31)) == 4
    assert teachers(2024, date(2025, 6, 1)) == 4  # a past year: its last day
    assert teachers(2025, date(2024, 12, 31)) == 5  # a year not begun: its last day as recorded now


def test_the_json_answer_is_the_answer(app: TrainRec, clock: Clock) -> None:
    clock.set(date(2024, 2, 20))
    build_county(app)
    run_programme(app, clock, "P1", starts_on=date(2024, 3, 4), awards={"A001": "8", "C001": "6"})
    for org_id in ("C1", "C1", "T1", "S1"):  # the county's second answer is the one stored by the first
        assert json.loads(app.compliance_json(ADMIN, org_id, 2024)) == app.compliance(ADMIN, org_id, 2024)
    assert [kid["org_id"] for kid in app.compliance(ADMIN, "C1", 2024)["children"]] == ["T1", "T2"]
    # the answers of the units above the schools (C1, T1, T2) for two years
    assert app.reports.prepare_answers(date(2024, 12, 31), [2024, 2025, 2024]) == 6


def test_a_teacher_number_with_a_space_is_listed_whole(app: TrainRec, clock: Clock) -> None:
    clock.set(date(2024, 2, 20))
    build_county(app)
    app.register_teacher(ADMIN, "A 004", "赵敏", "S1", date(2020, 9, 1))
    for org_id in ("S1", "T1", "C1"):
        short = shortfalls_of(app.compliance(ADMIN, org_id, 2024))["share_cycle_on_track"]
        assert "A 004" in short
        assert "A" not in short
