"""The nine figures from a unit's sums (`Tally.summary`), the sums from its schools' rows
(`Tally.of`) and the numbers the answers print (`ratio`, `hours`), on hand-computed sums, each
unit-wide threshold exactly met and just missed. No store: the sums are given."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

from domain.policy import DEFAULT_POLICY, Thresholds
from projections.reports import Tally, hours, ratio
from projections.school_years import RULES_SHORT, SEPARATOR, SchoolYear, _ordered, x10_ceiling


def shorts(**counts: int) -> defaultdict[str, int]:
    return defaultdict(int, counts)


def by_rule(summary: dict[str, object]) -> dict[str, dict[str, object]]:
    figures = summary["figures"]
    assert isinstance(figures, list)
    return {f["rule"]: {k: v for k, v in f.items() if k != "rule"} for f in figures}


def figure(value: float | None, threshold: float, met: bool, numerator: float, denominator: int | None
           ) -> dict[str, object]:
    return {"value": value, "threshold": threshold, "met": met, "numerator": numerator, "denominator": denominator}


def test_every_threshold_met_exactly() -> None:
    # 50 teachers: 76 × 50 = 3800 h, 38 × 50 = 1900 h; 0.22 × 50 = 11 with 90 h (39 short);
    # 19 of 20 counted enrolments attended = 0.95
    tally = Tally(teachers=50, hours_x10=38000, self_x10=19000, counted=20, attended=19,
                  short_counts=shorts(share_concentrated_90h=39))
    summary = tally.summary(DEFAULT_POLICY)
    assert summary["teachers"] == 50
    assert [f["rule"] for f in summary["figures"]] == [*RULES_SHORT, "overdue_assessments", "overdue_evaluations"]
    assert by_rule(summary) == {
        "avg_hours_per_teacher": figure(76.0, 76.0, True, 3800, 50),
        "avg_self_selected_hours": figure(38.0, 38.0, True, 1900, 50),
        "share_concentrated_90h": figure(0.22, 0.22, True, 11, 50),
        "share_school_based_designated": figure(1.0, 1.0, True, 50, 50),
        "share_school_based_elective": figure(1.0, 1.0, True, 50, 50),
        "participation_rate": figure(0.95, 0.95, True, 19, 20),
        "share_cycle_on_track": figure(1.0, 1.0, True, 50, 50),
        "overdue_assessments": figure(0, 0, True, 0, None),
        "overdue_evaluations": figure(0, 0, True, 0, None),
    }
    assert summary["shortfalls"] == []
    # as the answer's JSON gives them: whole numbers without a fraction
    assert json.dumps([f["numerator"] for f in summary["figures"]]) == "[3800, 1900, 11, 50, 50, 19, 50, 0, 0]"


def test_every_threshold_missed_by_the_least_step() -> None:
    # 3799.9 h / 50 = 75.998; 1899.9 h / 50 = 37.998; 10 / 50 = 0.2 < 0.22; 49 / 50 = 0.98 < 1;
    # 94 / 99 = 0.94949… < 0.95 (94.05 needed); one overdue assessment, two overdue evaluations
    tally = Tally(teachers=50, hours_x10=37999, self_x10=18999, counted=99, attended=94,
                  short_counts=shorts(share_concentrated_90h=40, share_school_based_designated=1,
                                      share_school_based_elective=1, share_cycle_on_track=1),
                  overdue_assessments=1, overdue_evaluations=2)
    assert by_rule(tally.summary(DEFAULT_POLICY)) == {
        "avg_hours_per_teacher": figure(75.998, 76.0, False, 3799.9, 50),
        "avg_self_selected_hours": figure(37.998, 38.0, False, 1899.9, 50),
        "share_concentrated_90h": figure(0.2, 0.22, False, 10, 50),
        "share_school_based_designated": figure(0.98, 1.0, False, 49, 50),
        "share_school_based_elective": figure(0.98, 1.0, False, 49, 50),
        "participation_rate": figure(0.9495, 0.95, False, 94, 99),
        "share_cycle_on_track": figure(0.98, 1.0, False, 49, 50),
        "overdue_assessments": figure(1, 0, False, 1, None),
        "overdue_evaluations": figure(2, 0, False, 2, None),
    }


def test_a_value_that_rounds_to_the_threshold_does_not_meet_it() -> None:
    # 18999 of 20000 = 0.94995, printed 0.95 (half-even to 4 places) but below 0.95 × 20000 = 19000
    f = by_rule(Tally(teachers=1, counted=20000, attended=18999).summary(DEFAULT_POLICY))
    assert f["participation_rate"] == figure(0.95, 0.95, False, 18999, 20000)
    f = by_rule(Tally(teachers=1, counted=20000, attended=19000).summary(DEFAULT_POLICY))
    assert f["participation_rate"] == figure(0.95, 0.95, True, 19000, 20000)


def test_a_unit_without_teachers_meets_no_share_and_has_nothing_overdue() -> None:
    f = by_rule(Tally().summary(DEFAULT_POLICY))
    for rule in RULES_SHORT:
        assert (f[rule]["value"], f[rule]["met"], f[rule]["numerator"], f[rule]["denominator"]) == (None, False, 0, 0)
    assert f["overdue_assessments"] == figure(0, 0, True, 0, None)
    assert f["overdue_evaluations"] == figure(0, 0, True, 0, None)


def test_teachers_without_counted_enrolments_have_no_participation_rate() -> None:
    f = by_rule(Tally(teachers=4, hours_x10=3040).summary(DEFAULT_POLICY))
    assert f["participation_rate"] == figure(None, 0.95, False, 0, 0)
    assert f["avg_hours_per_teacher"] == figure(76.0, 76.0, True, 304, 4)  # 304 h / 4


def test_thresholds_come_from_the_policy() -> None:
    policy = DEFAULT_POLICY.model_copy(update={"thresholds": Thresholds(
        avg_hours_per_teacher=Decimal(80), avg_self_selected_hours=Decimal("37.5"),
        share_concentrated_90h=Decimal("0.5"), share_school_based_designated=Decimal("0.75"),
        share_school_based_elective=Decimal("0.25"), participation_rate=Decimal("0.8"),
        share_cycle_on_track=Decimal("0.5"))})
    # 4 teachers, 316 h (79 each), 150 h self-selected (37.5 each); 2 with 90 h, 3 with designated,
    # 1 with elective, 2 on track; 4 of 5 enrolments attended
    tally = Tally(teachers=4, hours_x10=3160, self_x10=1500, counted=5, attended=4,
                  short_counts=shorts(share_concentrated_90h=2, share_school_based_designated=1,
                                      share_school_based_elective=3, share_cycle_on_track=2))
    f = by_rule(tally.summary(policy))
    assert {rule: (f[rule]["value"], f[rule]["threshold"], f[rule]["met"]) for rule in RULES_SHORT} == {
        "avg_hours_per_teacher": (79.0, 80.0, False),
        "avg_self_selected_hours": (37.5, 37.5, True),
        "share_concentrated_90h": (0.5, 0.5, True),
        "share_school_based_designated": (0.75, 0.75, True),
        "share_school_based_elective": (0.25, 0.25, True),
        "participation_rate": (0.8, 0.8, True),
        "share_cycle_on_track": (0.5, 0.5, True),
    }


def test_shortfalls_list_each_rules_teachers_in_order_and_leave_out_empty_rules() -> None:
    tally = Tally(teachers=3, counted=3, attended=2, overdue_assessments=1, overdue_evaluations=2)
    tally.short["share_concentrated_90h"] = ["A003", "A001"]  # two schools' runs, each in order
    tally.short["participation_rate"] = ["B001"]
    tally.overdue_assessment_teachers = ["B001"]
    tally.overdue_evaluation_teachers = ["C001", "A002"]
    tally.order()  # as Reports._tallies does before naming and summing up
    assert tally.summary(DEFAULT_POLICY)["shortfalls"] == [
        {"rule": "share_concentrated_90h", "count": 2, "teacher_nos": ["A001", "A003"]},
        {"rule": "participation_rate", "count": 1, "teacher_nos": ["B001"]},
        {"rule": "overdue_assessments", "count": 1, "teacher_nos": ["B001"]},
        {"rule": "overdue_evaluations", "count": 2, "teacher_nos": ["A002", "C001"]},
    ]
    assert tally.summary(DEFAULT_POLICY, lists=False)["shortfalls"] == []


def test_a_units_sums_add_up_its_schools_rows() -> None:
    s1 = SchoolYear(teachers=3, hours_x10=2855, self_x10=1200, counted=7, attended=6,
                    short_counts=(0, 1, 2, 3, 0, 1, 2), lists=("", "A002", "A002\x1fA003", "", "", "", ""),
                    overdue_assessments=2, overdue_assessment_teachers="A003", overdue_evaluations=1,
                    overdue_evaluation_teachers="A001")
    s2 = SchoolYear(teachers=1, hours_x10=5, self_x10=0, counted=1, attended=0,
                    short_counts=(1, 1, 1, 1, 1, 1, 1), overdue_evaluations=3)
    tally = Tally.of([s1.values(), s2.values()])
    assert (tally.teachers, tally.hours_x10, tally.self_x10, tally.counted, tally.attended) == (4, 2860, 1200, 8, 6)
    assert dict(tally.short_counts) == dict(zip(RULES_SHORT, (1, 2, 3, 4, 1, 2, 3), strict=True))
    assert (tally.overdue_assessments, tally.overdue_evaluations) == (2, 4)
    empty = Tally.of([])
    assert (empty.teachers, empty.hours_x10, dict(empty.short_counts)) == (0, 0, {})


def test_ratios_round_half_to_even_at_four_places() -> None:
    assert ratio(Decimal(2), Decimal(3)) == 0.6667
    assert ratio(Decimal(1), Decimal(8)) == 0.125
    assert ratio(Decimal(1), Decimal(20000)) == 0.0  # 0.00005 → 0.0000
    assert ratio(Decimal(3), Decimal(20000)) == 0.0002  # 0.00015 → 0.0002
    assert ratio(Decimal(5), Decimal(0)) is None
    assert ratio(Decimal(0), Decimal(7)) == 0.0


def test_tenths_of_an_hour_print_as_whole_numbers_when_they_are() -> None:
    assert hours(885) == 88.5
    assert hours(880) == 88
    assert type(hours(880)) is int
    assert type(hours(885)) is float
    assert hours(0) == 0
    assert hours(-15) == -1.5


def test_limits_in_tenths_of_an_hour_round_up() -> None:
    assert [x10_ceiling(Decimal(h)) for h in ("90", "89.91", "89.99", "33.3333", "7.95", "0")] == [
        900, 900, 900, 334, 80, 0]


def test_a_schools_list_read_from_sqlite_is_put_in_order() -> None:
    assert _ordered(SEPARATOR.join(["B001", "A010", "A002"]), False) == SEPARATOR.join(["A002", "A010", "B001"])
    assert _ordered(SEPARATOR.join(["B001", "A002"]), True) == SEPARATOR.join(["B001", "A002"])  # PostgreSQL's
    assert _ordered(None, False) == ""
    assert _ordered("", True) == ""
    assert _ordered(SEPARATOR.join(["B 1", "A 2"]), False) == SEPARATOR.join(["A 2", "B 1"])  # inner spaces kept
