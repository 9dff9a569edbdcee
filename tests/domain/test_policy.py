"""Policy as data: terms, years, cycles, deadlines, local dates, credit conversion, validation.

DEFAULT_POLICY carries the default numbers (docs/domain.md "Default policy"); provinces replace it
with their own validated JSON documents (docs/domain.md).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from domain.policy import (
    DEFAULT_POLICY,
    Cap,
    Conversion,
    Match,
    Minimum,
    MonthDay,
    Policy,
    load_policy,
)
from domain.vocabulary import AssessmentResult, Form, Level, Selection

SPRING, AUTUMN = 0, 1


def default_document(**changes: Any) -> dict[str, Any]:
    """The default policy as a JSON-ready document, with top-level fields replaced."""
    document = DEFAULT_POLICY.model_dump(mode="json")
    document.update(changes)
    return document


def school_year_policy() -> Policy:
    return Policy.model_validate(default_document(version="school-year-1", year_starts={"month": 9, "day": 1}))


# --- terms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "term"),
    [
        (date(2024, 2, 1), (2024, SPRING)),
        (date(2024, 4, 15), (2024, SPRING)),
        (date(2024, 7, 31), (2024, SPRING)),
        (date(2024, 8, 1), (2024, AUTUMN)),
        (date(2024, 12, 31), (2024, AUTUMN)),
        (date(2025, 1, 1), (2024, AUTUMN)),
        (date(2025, 1, 31), (2024, AUTUMN)),
        (date(2025, 2, 1), (2025, SPRING)),
    ],
)
def test_term_of_places_a_date_in_the_spring_or_autumn_term(day: date, term: tuple[int, int]) -> None:
    assert DEFAULT_POLICY.term_of(day) == term


def test_january_31_belongs_to_the_autumn_term_of_the_previous_year() -> None:
    assert DEFAULT_POLICY.term_of(date(2024, 1, 31)) == (2023, AUTUMN)
    assert DEFAULT_POLICY.term_name(DEFAULT_POLICY.term_of(date(2024, 1, 31))) == "2023 autumn"


def test_term_keys_order_terms_chronologically() -> None:
    days = [
        date(2023, 8, 1), date(2024, 1, 31), date(2024, 2, 1), date(2024, 7, 31), date(2024, 8, 1), date(2025, 2, 1)
    ]
    keys = [DEFAULT_POLICY.term_of(d) for d in days]
    assert keys == sorted(keys)
    assert keys[0] == keys[1] < keys[2] == keys[3] < keys[4] < keys[5]


def test_term_of_is_monotonic_over_every_day_of_three_years() -> None:
    day, previous = date(2022, 1, 1), DEFAULT_POLICY.term_of(date(2022, 1, 1))
    while day < date(2025, 1, 1):
        day += timedelta(days=1)
        current = DEFAULT_POLICY.term_of(day)
        assert current >= previous
        previous = current


def test_term_name_names_the_year_and_the_term() -> None:
    assert DEFAULT_POLICY.term_name((2024, SPRING)) == "2024 spring"
    assert DEFAULT_POLICY.term_name((2024, AUTUMN)) == "2024 autumn"


def test_terms_given_out_of_order_are_sorted_by_start() -> None:
    document = default_document(
        terms=[
            {"name": "autumn", "starts": {"month": 8, "day": 1}},
            {"name": "spring", "starts": {"month": 2, "day": 1}},
        ]
    )
    policy = Policy.model_validate(document)
    assert [t.name for t in policy.terms] == ["spring", "autumn"]
    assert policy.term_of(date(2024, 9, 1)) == (2024, AUTUMN)


# --- reporting years -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "year"),
    [(date(2024, 1, 1), 2024), (date(2024, 8, 31), 2024), (date(2024, 12, 31), 2024), (date(2025, 1, 1), 2025)],
)
def test_default_years_are_calendar_years(day: date, year: int) -> None:
    assert DEFAULT_POLICY.year_of(day) == year


def test_default_year_bounds_are_january_1_to_december_31() -> None:
    assert DEFAULT_POLICY.year_bounds(2024) == (date(2024, 1, 1), date(2024, 12, 31))
    assert DEFAULT_POLICY.year_bounds(2023) == (date(2023, 1, 1), date(2023, 12, 31))


@pytest.mark.parametrize(
    ("day", "year"),
    [(date(2024, 8, 31), 2023), (date(2024, 9, 1), 2024), (date(2024, 12, 31), 2024), (date(2025, 8, 31), 2024)],
)
def test_a_school_year_policy_names_the_year_by_its_september_start(day: date, year: int) -> None:
    assert school_year_policy().year_of(day) == year


def test_school_year_bounds_run_from_september_1_to_august_31() -> None:
    assert school_year_policy().year_bounds(2024) == (date(2024, 9, 1), date(2025, 8, 31))
    assert school_year_policy().year_bounds(2023) == (date(2023, 9, 1), date(2024, 8, 31))


def test_every_date_of_a_year_falls_within_that_years_bounds() -> None:
    for policy in (DEFAULT_POLICY, school_year_policy()):
        first, last = policy.year_bounds(2024)
        assert policy.year_of(first) == 2024
        assert policy.year_of(last) == 2024
        assert policy.year_of(first - timedelta(days=1)) == 2023
        assert policy.year_of(last + timedelta(days=1)) == 2025


def test_a_year_start_that_validates_gives_bounds_for_every_year() -> None:
    with pytest.raises(ValidationError):  # 02-29 would give no bounds in three years out of four
        Policy.model_validate(default_document(year_starts={"month": 2, "day": 29}))
    day = date(2023, 1, 1)
    while day.year == 2023:  # every month-day that validates (02-29 excluded, as above)
        policy = Policy.model_validate(default_document(year_starts={"month": day.month, "day": day.day}))
        for year in (2023, 2024, 2099, 2100):  # years that are and are not leap years
            first, last = policy.year_bounds(year)
            assert (first.month, first.day) == (day.month, day.day)
            assert (last - first).days + 1 in (365, 366)
            assert policy.year_of(first) == policy.year_of(last) == year
        day += timedelta(days=1)


# --- cycles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2021, 2022, 2023, 2024, 2025])
def test_years_2021_to_2025_form_the_first_cycle(year: int) -> None:
    assert DEFAULT_POLICY.cycle_of(year) == (2021, 2025)


@pytest.mark.parametrize("year", [2026, 2028, 2030])
def test_years_2026_to_2030_form_the_second_cycle(year: int) -> None:
    assert DEFAULT_POLICY.cycle_of(year) == (2026, 2030)


@pytest.mark.parametrize(("year", "cycle"), [(2020, (2016, 2020)), (2016, (2016, 2020)), (2015, (2011, 2015))])
def test_years_before_the_first_cycle_fall_in_earlier_five_year_cycles(year: int, cycle: tuple[int, int]) -> None:
    assert DEFAULT_POLICY.cycle_of(year) == cycle


def test_the_default_cycle_requires_360_hours_in_5_years() -> None:
    assert DEFAULT_POLICY.cycle.length_years == 5
    assert DEFAULT_POLICY.cycle.required == Decimal(360)
    assert DEFAULT_POLICY.cycle.unit == "hours"


# --- deadlines ---------------------------------------------------------------------------------


def test_assessment_is_due_5_days_after_the_end() -> None:
    assert DEFAULT_POLICY.assessment_due(date(2024, 3, 6)) == date(2024, 3, 11)


def test_evaluation_is_due_10_days_after_the_end() -> None:
    assert DEFAULT_POLICY.evaluation_due(date(2024, 3, 6)) == date(2024, 3, 16)


def test_deadlines_run_across_month_and_year_ends() -> None:
    assert DEFAULT_POLICY.assessment_due(date(2024, 2, 27)) == date(2024, 3, 3)  # leap February
    assert DEFAULT_POLICY.evaluation_due(date(2024, 12, 28)) == date(2025, 1, 7)


# --- local dates -------------------------------------------------------------------------------


def test_an_instant_after_16_00_utc_is_the_next_day_in_shanghai() -> None:
    assert DEFAULT_POLICY.local_date(datetime(2024, 3, 5, 16, 30, tzinfo=UTC)) == date(2024, 3, 6)


def test_an_instant_just_before_16_00_utc_is_the_same_day_in_shanghai() -> None:
    assert DEFAULT_POLICY.local_date(datetime(2024, 3, 5, 15, 59, 59, tzinfo=UTC)) == date(2024, 3, 5)


def test_new_years_eve_at_16_00_utc_is_already_new_year_in_shanghai() -> None:
    instant = datetime(2023, 12, 31, 16, 0, tzinfo=UTC)
    assert DEFAULT_POLICY.local_date(instant) == date(2024, 1, 1)
    assert DEFAULT_POLICY.year_of(DEFAULT_POLICY.local_date(instant)) == 2024


def test_local_date_does_not_depend_on_the_offset_the_instant_is_given_in() -> None:
    utc = datetime(2024, 7, 31, 17, 0, tzinfo=UTC)
    new_york = utc.astimezone(timezone(timedelta(hours=-4)))
    assert DEFAULT_POLICY.local_date(utc) == DEFAULT_POLICY.local_date(new_york) == date(2024, 8, 1)


def test_a_policy_in_another_zone_gives_that_zones_date() -> None:
    policy = Policy.model_validate(default_document(timezone="UTC"))
    assert policy.local_date(datetime(2024, 3, 5, 16, 30, tzinfo=UTC)) == date(2024, 3, 5)


# --- credit conversion -------------------------------------------------------------------------


def test_without_conversions_one_hour_is_one_credit() -> None:
    value = DEFAULT_POLICY.credit_value(Decimal(24), "county", "concentrated", "self_selected", "pass")
    assert value == Decimal(24)


def beijing_policy() -> Policy:
    """Beijing: training 10 h = 1 学分; practice, research, online and 校本 20 h = 1 学分; 36 学分 per 5 years."""
    return Policy.model_validate(
        default_document(
            version="beijing-2021",
            cycle={"length_years": 5, "required": "36", "unit": "credits", "first_start_year": 2021},
            conversions=[
                {"match": {"form": "online"}, "hours_per_credit": "20"},
                {"match": {"form": "school_based"}, "hours_per_credit": "20"},
                {"match": {"selection": "school_based"}, "hours_per_credit": "20"},
                {"hours_per_credit": "10"},
            ],
        )
    )


def test_beijing_training_converts_10_hours_to_1_credit() -> None:
    value = beijing_policy().credit_value(Decimal(24), "county", "concentrated", "self_selected", "pass")
    assert value == Decimal("2.40")


def test_beijing_school_based_training_converts_20_hours_to_1_credit() -> None:
    policy = beijing_policy()
    assert policy.credit_value(Decimal(20), "school", "school_based", "school_based", "pass") == Decimal("1.00")
    assert policy.credit_value(Decimal(20), "school", "workshop", "school_based", "pass") == Decimal("1.00")


def test_beijing_online_training_converts_20_hours_to_1_credit() -> None:
    assert beijing_policy().credit_value(Decimal(30), "provincial", "online", "self_selected", "pass") == Decimal(
        "1.50"
    )


def test_the_first_matching_conversion_wins() -> None:
    policy = Policy.model_validate(
        default_document(
            conversions=[{"hours_per_credit": "10"}, {"match": {"form": "online"}, "hours_per_credit": "20"}]
        )
    )
    assert policy.credit_value(Decimal(20), "county", "online", "self_selected", "pass") == Decimal("2.00")


def test_credits_are_rounded_to_hundredths() -> None:
    policy = Policy.model_validate(default_document(conversions=[{"hours_per_credit": "6"}]))
    assert policy.credit_value(Decimal(10), "county", "concentrated", "mandated", "pass") == Decimal("1.67")


def test_an_excellent_result_uses_the_better_rate() -> None:
    policy = Policy.model_validate(
        default_document(conversions=[{"hours_per_credit": "8", "excellent_hours_per_credit": "6"}])
    )
    assert policy.credit_value(Decimal(24), "county", "concentrated", "mandated", "excellent") == Decimal("4.00")
    assert policy.credit_value(Decimal(24), "county", "concentrated", "mandated", "good") == Decimal("3.00")
    assert policy.credit_value(Decimal(24), "county", "concentrated", "mandated", "pass") == Decimal("3.00")


def test_concentrated_6_hours_and_other_8_hours_per_credit_can_be_expressed() -> None:
    policy = Policy.model_validate(
        default_document(
            conversions=[
                {"match": {"form": "concentrated"}, "hours_per_credit": "6"},
                {"hours_per_credit": "8"},
            ]
        )
    )
    assert policy.credit_value(Decimal(90), "city", "concentrated", "self_selected", "pass") == Decimal("15.00")
    assert policy.credit_value(Decimal(16), "city", "online", "self_selected", "pass") == Decimal("2.00")


def test_a_conversion_match_combines_level_form_and_selection() -> None:
    match = Match(level=Level.NATIONAL, form=Form.ONLINE, selection=Selection.MANDATED)
    assert match.matches("national", "online", "mandated")
    assert not match.matches("national", "online", "self_selected")
    assert not match.matches("county", "online", "mandated")
    assert Match().matches("school", "school_based", "school_based")


# --- assessment results --------------------------------------------------------------------------


def test_only_a_fail_fails_under_the_default_policy() -> None:
    assert not DEFAULT_POLICY.passes("fail")
    assert all(DEFAULT_POLICY.passes(r) for r in ("pass", "good", "excellent"))


def test_a_stricter_policy_can_fail_a_bare_pass() -> None:
    policy = Policy.model_validate(default_document(failing_results=["fail", "pass"]))
    assert not policy.passes(AssessmentResult.PASS)
    assert policy.passes(AssessmentResult.GOOD)


# --- validation ----------------------------------------------------------------------------------


def test_the_default_policy_names_its_version_and_zone() -> None:
    assert DEFAULT_POLICY.version == "seeds-default-1"
    assert DEFAULT_POLICY.timezone == "Asia/Shanghai"
    assert str(DEFAULT_POLICY.zone) == "Asia/Shanghai"


def test_an_unknown_timezone_name_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        Policy.model_validate(default_document(timezone="Mars/Olympus"))


@pytest.mark.parametrize("zone", ["", "../etc/passwd"])
def test_a_malformed_timezone_is_a_validation_error(zone: str) -> None:
    with pytest.raises(ValidationError):
        Policy.model_validate(default_document(timezone=zone))


@pytest.mark.parametrize(("month", "day"), [(2, 30), (2, 31), (4, 31), (13, 1), (0, 1), (1, 0), (1, 32)])
def test_an_impossible_month_day_is_a_validation_error(month: int, day: int) -> None:
    with pytest.raises(ValidationError):
        MonthDay(month=month, day=day)


def test_an_impossible_term_start_in_a_document_is_a_validation_error() -> None:
    document = default_document(terms=[{"name": "spring", "starts": {"month": 2, "day": 30}}])
    with pytest.raises(ValidationError):
        Policy.model_validate(document)


def test_two_terms_starting_on_the_same_day_are_a_validation_error() -> None:
    document = default_document(
        terms=[
            {"name": "spring", "starts": {"month": 2, "day": 1}},
            {"name": "summer", "starts": {"month": 2, "day": 1}},
        ]
    )
    with pytest.raises(ValidationError, match="same day"):
        Policy.model_validate(document)


def test_a_policy_without_terms_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        Policy.model_validate(default_document(terms=[]))


def test_an_unknown_top_level_field_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        Policy.model_validate(default_document(bonus_hours=10))


def test_an_unknown_nested_field_is_a_validation_error() -> None:
    document = default_document()
    document["cycle"] = {**document["cycle"], "grace_years": 1}
    with pytest.raises(ValidationError):
        Policy.model_validate(document)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", ""),
        ("deadlines", {"assessment_days": -1, "evaluation_days": 10}),
        ("cycle", {"length_years": 0, "required": "360", "unit": "hours", "first_start_year": 2021}),
        ("cycle", {"length_years": 5, "required": "0", "unit": "hours", "first_start_year": 2021}),
        ("cycle", {"length_years": 5, "required": "360", "unit": "points", "first_start_year": 2021}),
        ("conversions", [{"hours_per_credit": "0"}]),
        ("conversions", [{"match": {"form": "carrier_pigeon"}, "hours_per_credit": "10"}]),
        ("failing_results", ["terrible"]),
    ],
)
def test_out_of_range_values_are_validation_errors(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        Policy.model_validate(default_document(**{field: value}))


def test_a_policy_cannot_be_changed_in_place() -> None:
    with pytest.raises(ValidationError):
        DEFAULT_POLICY.version = "tampered"  # type: ignore[misc]


# --- loading province documents ------------------------------------------------------------------


def test_load_policy_round_trips_the_default_policy_through_json() -> None:
    assert load_policy(DEFAULT_POLICY.model_dump_json()) == DEFAULT_POLICY


def test_load_policy_reads_a_province_document() -> None:
    text = json.dumps(
        {
            "version": "zhejiang-2022",
            "cycle": {"length_years": 5, "required": 360, "unit": "credits", "first_start_year": 2022},
            "terms": [
                {"name": "上学期", "starts": {"month": 9, "day": 1}},
                {"name": "下学期", "starts": {"month": 3, "day": 1}},
            ],
            "deadlines": {"assessment_days": 7, "evaluation_days": 14},
            "year_starts": {"month": 9, "day": 1},
        },
        ensure_ascii=False,
    )
    policy = load_policy(text)
    assert policy.version == "zhejiang-2022"
    assert policy.cycle.required == Decimal(360)
    assert policy.cycle.unit == "credits"
    assert policy.cycle_of(2026) == (2022, 2026)
    assert [t.name for t in policy.terms] == ["下学期", "上学期"]
    assert policy.term_name(policy.term_of(date(2024, 10, 1))) == "2024 上学期"
    assert policy.term_of(date(2024, 2, 1)) == (2023, 1)
    assert policy.assessment_due(date(2024, 3, 6)) == date(2024, 3, 13)
    assert policy.year_of(date(2024, 8, 31)) == 2023


def test_load_policy_refuses_a_document_with_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        load_policy(json.dumps(default_document(extra_rule=True)))


def test_load_policy_refuses_text_that_is_not_json() -> None:
    with pytest.raises(ValidationError):
        load_policy("version: beijing")


# --- what other provinces need (as docs/domain.md lists them) --------------------------------


@pytest.mark.parametrize(
    ("province", "required", "unit"),
    [("jiangsu", "360", "hours"), ("hunan", "360", "hours"), ("beijing", "36", "credits"),
     ("shanghai", "36", "credits"), ("zhejiang", "360", "credits"), ("shandong", "360", "credits")],
)
def test_cycle_totals_in_hours_or_credits_are_expressible(province: str, required: str, unit: str) -> None:
    policy = Policy.model_validate(
        default_document(
            version=f"{province}-1",
            cycle={"length_years": 5, "required": required, "unit": unit, "first_start_year": 2021},
        )
    )
    assert policy.cycle.required == Decimal(required)
    assert policy.cycle.unit == unit


@pytest.mark.parametrize("yearly", [24, 48, 72])
def test_an_annual_minimum_is_expressible_as_a_threshold(yearly: int) -> None:
    policy = Policy.model_validate(default_document(thresholds={"avg_hours_per_teacher": yearly}))
    assert policy.thresholds.avg_hours_per_teacher == Decimal(yearly)
    assert policy.thresholds.avg_self_selected_hours == Decimal(38)  # the other defaults stay


def test_a_cap_on_school_based_hours_per_cycle_is_expressible() -> None:
    policy = Policy.model_validate(
        default_document(caps=[{"match": {"selection": "school_based"}, "max_hours": "120"}])
    )
    assert policy.caps == (Cap(match=Match(selection=Selection.SCHOOL_BASED), max_hours=Decimal(120)),)
    assert policy.caps[0].match.matches("school", "workshop", "school_based")
    assert not policy.caps[0].match.matches("county", "concentrated", "self_selected")


def test_caps_by_level_and_by_form_are_expressible() -> None:
    policy = Policy.model_validate(
        default_document(
            caps=[
                {"match": {"level": "school"}, "max_hours": "120"},
                {"match": {"form": "online"}, "max_hours": "180"},
            ]
        )
    )
    assert [c.max_hours for c in policy.caps] == [Decimal(120), Decimal(180)]


def test_a_per_kind_conversion_with_an_excellent_rate_is_expressible_as_data() -> None:
    conversion = Conversion.model_validate(
        {"match": {"level": "national"}, "hours_per_credit": "10", "excellent_hours_per_credit": "8"}
    )
    assert conversion.match.level == Level.NATIONAL
    assert conversion.excellent_hours_per_credit == Decimal(8)


def test_minimum_hours_by_level_are_expressible() -> None:
    policy = Policy.model_validate(
        default_document(
            minimums=[
                {"match": {"level": "county"}, "min_hours": "240"},
                {"match": {"level": "city"}, "min_hours": "60"},
            ]
        )
    )
    assert policy.minimums == (
        Minimum(match=Match(level=Level.COUNTY), min_hours=Decimal(240)),
        Minimum(match=Match(level=Level.CITY), min_hours=Decimal(60)),
    )
    assert DEFAULT_POLICY.minimums == ()


@pytest.mark.parametrize(
    "minimum",
    [
        {"match": {"level": "county"}, "min_hours": "-1"},
        {"match": {"level": "county"}, "min_hours": "many"},
        {"match": {"level": "township"}, "min_hours": "60"},
        {"match": {"level": "county"}},
        {"min_hours": "60"},
        {"match": {"level": "county"}, "min_hours": "60", "per": "year"},
    ],
    ids=["negative", "not-a-number", "unknown-level", "no-hours", "no-match", "unknown-field"],
)
def test_an_invalid_minimum_is_a_validation_error(minimum: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Policy.model_validate(default_document(minimums=[minimum]))
