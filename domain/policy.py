"""Policy: the numbers that differ between provinces and over time, as versioned, validated data.

Everything that depends on policy records the `version` it used. The default carries the
numbers (docs/domain.md "Default policy"); a province supplies its own JSON document.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.vocabulary import AssessmentResult, Form, Level, Selection


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MonthDay(_Frozen):
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)

    @model_validator(mode="after")
    def _real_day(self) -> MonthDay:
        date(2023, self.month, self.day)  # a non-leap year: 02-29 would not exist every year
        return self

    def key(self) -> tuple[int, int]:
        return (self.month, self.day)


class Term(_Frozen):
    name: str = Field(min_length=1)
    starts: MonthDay


class Cycle(_Frozen):
    length_years: int = Field(ge=1, le=10)
    required: Decimal = Field(gt=0)
    unit: Literal["hours", "credits"] = "hours"
    first_start_year: int = Field(ge=1990, le=2100)


class Deadlines(_Frozen):
    assessment_days: int = Field(ge=0, le=365)
    evaluation_days: int = Field(ge=0, le=365)


class Match(_Frozen):
    """Which credits a conversion or cap applies to; an absent field matches anything."""

    level: Level | None = None
    form: Form | None = None
    selection: Selection | None = None

    def matches(self, level: str, form: str, selection: str) -> bool:
        return (
            (self.level is None or self.level == level)
            and (self.form is None or self.form == form)
            and (self.selection is None or self.selection == selection)
        )


class Conversion(_Frozen):
    """学时 → 学分: `hours_per_credit` hours make one credit (optionally better for excellent)."""

    match: Match = Match()
    hours_per_credit: Decimal = Field(gt=0)
    excellent_hours_per_credit: Decimal | None = Field(default=None, gt=0)


class Cap(_Frozen):
    """At most `max_hours` of matching credits count towards one cycle."""

    match: Match
    max_hours: Decimal = Field(ge=0)


class Minimum(_Frozen):
    """At least `min_hours` of matching credits per cycle (e.g. 240 h at county level or above)."""

    match: Match
    min_hours: Decimal = Field(ge=0)


class Thresholds(_Frozen):
    avg_hours_per_teacher: Decimal = Decimal(76)
    avg_self_selected_hours: Decimal = Decimal(38)
    share_concentrated_90h: Decimal = Decimal("0.22")
    concentrated_min_hours: Decimal = Decimal(90)
    share_school_based_designated: Decimal = Decimal(1)
    school_based_designated_hours: Decimal = Decimal(8)
    share_school_based_elective: Decimal = Decimal(1)
    school_based_elective_hours: Decimal = Decimal(16)
    participation_rate: Decimal = Decimal("0.95")
    share_cycle_on_track: Decimal = Decimal(1)


class Policy(_Frozen):
    version: str = Field(min_length=1, max_length=64)
    timezone: str = "Asia/Shanghai"
    year_starts: MonthDay = MonthDay(month=1, day=1)
    cycle: Cycle
    terms: tuple[Term, ...] = Field(min_length=1)
    deadlines: Deadlines
    # a fact recorded more than this many days after it happened is a late entry (补录)
    late_entry_days: int = Field(default=30, ge=0, le=3650)
    thresholds: Thresholds = Thresholds()
    conversions: tuple[Conversion, ...] = ()
    caps: tuple[Cap, ...] = ()
    minimums: tuple[Minimum, ...] = ()
    failing_results: tuple[AssessmentResult, ...] = (AssessmentResult.FAIL,)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"unknown time zone {value!r}"
            raise ValueError(msg) from None
        return value

    @field_validator("terms")
    @classmethod
    def _distinct_terms(cls, terms: tuple[Term, ...]) -> tuple[Term, ...]:
        starts = [t.starts.key() for t in terms]
        if len(set(starts)) != len(starts):
            msg = "two terms start on the same day"
            raise ValueError(msg)
        return tuple(sorted(terms, key=lambda t: t.starts.key()))

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, instant: datetime) -> date:
        """The calendar date of an instant where the policy applies (Asia/Shanghai by default)."""
        return instant.astimezone(self.zone).date()

    def year_of(self, day: date) -> int:
        """The reporting year a date falls in (calendar year, or school year named by its start)."""
        if (day.month, day.day) >= self.year_starts.key():
            return day.year
        return day.year - 1

    def year_bounds(self, year: int) -> tuple[date, date]:
        """First and last date of reporting year `year`."""
        first = date(year, self.year_starts.month, self.year_starts.day)
        last = date(year + 1, self.year_starts.month, self.year_starts.day) - timedelta(days=1)
        return first, last

    def term_of(self, day: date) -> tuple[int, int]:
        """An orderable key of the term containing `day`: (year the term started, term index)."""
        key = (day.month, day.day)
        for index in range(len(self.terms) - 1, -1, -1):
            if key >= self.terms[index].starts.key():
                return (day.year, index)
        return (day.year - 1, len(self.terms) - 1)

    def term_name(self, term: tuple[int, int]) -> str:
        return f"{term[0]} {self.terms[term[1]].name}"

    def cycle_of(self, year: int) -> tuple[int, int]:
        """First and last reporting year of the cycle containing `year`."""
        length = self.cycle.length_years
        start = self.cycle.first_start_year + ((year - self.cycle.first_start_year) // length) * length
        return start, start + length - 1

    def assessment_due(self, ends_on: date) -> date:
        return ends_on + timedelta(days=self.deadlines.assessment_days)

    def evaluation_due(self, ends_on: date) -> date:
        return ends_on + timedelta(days=self.deadlines.evaluation_days)

    def passes(self, result: str) -> bool:
        return result not in self.failing_results

    def credit_value(self, hours: Decimal, level: str, form: str, selection: str, result: str) -> Decimal:
        """学分 for `hours` 学时 under the first matching conversion (1:1 where none matches)."""
        for conv in self.conversions:
            if conv.match.matches(level, form, selection):
                rate = conv.hours_per_credit
                if result == AssessmentResult.EXCELLENT and conv.excellent_hours_per_credit:
                    rate = conv.excellent_hours_per_credit
                return (hours / rate).quantize(Decimal("0.01"))
        return hours


DEFAULT_POLICY = Policy(
    version="seeds-default-1",
    cycle=Cycle(length_years=5, required=Decimal(360), unit="hours", first_start_year=2021),
    terms=(
        Term(name="spring", starts=MonthDay(month=2, day=1)),
        Term(name="autumn", starts=MonthDay(month=8, day=1)),
    ),
    deadlines=Deadlines(assessment_days=5, evaluation_days=10),
)


def load_policy(text: str) -> Policy:
    """Validate a province's policy document (JSON)."""
    return Policy.model_validate_json(text)
