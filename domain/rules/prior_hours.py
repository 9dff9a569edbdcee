"""Earlier hours (历史学时): hours certified on an earlier platform, recorded for a reporting year
by a supervisor above the teacher's school (or an admin), with their source, evidence and reason.

What a valid record is:
- its year is a reporting year from FIRST_YEAR up to the current one (hours are certified after
  they were earned, never ahead);
- its hours are positive with at most one decimal (as every 学时, domain/rules/hours.py); each
  part of the optional breakdown (self-selected, school-based, concentrated) is 0 or such an
  amount, at most the hours; self-selected and school-based hours are disjoint (校本 hours never
  count as self-selected), so together they are at most the hours;
- it names its source (the earlier platform or certifying body), at least one piece of evidence
  (a file by its sha256, as disputes cite them) and a reason;
- it is not recorded twice: a valid record of the same year, source, hours and breakdown refuses it.

How a valid record counts (`PriorFigures`), like one credit of its year:
- `hours` in the year's hours and in the cycle's;
- `self_selected` in the year's self-selected hours;
- `school_based` in the school-based hours of *elective* content (自选内容) and never of
  designated content: a total from another platform cannot show that the county's designated
  content (指定内容) was covered;
- `concentrated` as one concentrated credit of that many hours: a record with at least the
  policy's 90 h counts for the concentrated figure; two records are two credits, never added up.
A revoked record counts nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from domain.errors import Conflict, Invalid
from domain.rules.disputes import ensure_evidence
from domain.rules.hours import ensure_valid_hours
from domain.teacher_records import PriorHours

FIRST_YEAR = 1990
MAX_SOURCE = 200


def ensure_prior_year(year: int, current_year: int) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= current_year:
        raise Invalid("invalid_year", f"earlier hours are for a reporting year from {FIRST_YEAR} to {current_year}")
    return year


def ensure_part(value: Decimal | int | str | None, hours: Decimal, what: str) -> Decimal:
    """A part of the breakdown: absent or 0 is none; else hours (≤ 1 decimal) at most `hours`."""
    if value is None:
        return Decimal(0)
    try:
        zero = Decimal(str(value)) == 0
    except ArithmeticError:
        zero = False
    if zero:
        return Decimal(0)
    part = ensure_valid_hours(value, what)
    if part > hours:
        raise Invalid("invalid_breakdown", f"{what} ({part} 学时) exceeds the record's {hours} 学时")
    return part


def ensure_breakdown(
    hours: Decimal, self_selected: Decimal | None, school_based: Decimal | None, concentrated: Decimal | None
) -> tuple[Decimal, Decimal, Decimal]:
    own = ensure_part(self_selected, hours, "self_selected")
    school = ensure_part(school_based, hours, "school_based")
    long = ensure_part(concentrated, hours, "concentrated")
    if own + school > hours:
        raise Invalid("invalid_breakdown",
                      f"self_selected and school_based hours never overlap: {own} + {school} exceeds {hours} 学时")
    return own, school, long


def ensure_source(source: str) -> str:
    source = source.strip()
    if not source:
        raise Invalid("source_required", "earlier hours name the platform or body that certified them")
    if len(source) > MAX_SOURCE:
        raise Invalid("source_too_long", f"a source is at most {MAX_SOURCE} characters")
    return source


def ensure_prior_evidence(evidence: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    checked = ensure_evidence(evidence)
    if not checked:
        raise Invalid("evidence_required", "earlier hours cite at least one piece of evidence (the certificate)")
    return checked


def ensure_not_recorded_before(
    records: Iterable[PriorHours], year: int, source: str, amounts: tuple[Decimal, Decimal, Decimal, Decimal]
) -> None:
    """The same certificate is recorded once: a valid record of the same year, source, hours and
    breakdown refuses another (so a sheet imported again after corrections records nothing twice;
    two certificates alike in all of these are told apart by their source, e.g. its number)."""
    for r in records:
        if not r.revoked and (r.year, r.source) == (year, source) and (
            r.hours, r.self_selected, r.school_based, r.concentrated
        ) == amounts:
            raise Conflict("prior_hours_already_recorded",
                           f"earlier hours {r.record_id} already record {r.hours} 学时 of {year} from {source}")


def ensure_prior_revocable(record: PriorHours) -> None:
    if record.revoked:
        raise Conflict("prior_hours_already_revoked", f"earlier hours {record.record_id} were already revoked")


@dataclass(frozen=True)
class PriorFigures:
    """What one record adds to its year's figures (zero everywhere once revoked)."""

    hours: Decimal
    self_selected: Decimal
    designated: Decimal
    elective: Decimal
    concentrated: Decimal | None  # one concentrated credit of these hours, or none


def figures_of(record: PriorHours) -> PriorFigures:
    if record.revoked:
        return PriorFigures(Decimal(0), Decimal(0), Decimal(0), Decimal(0), None)
    return PriorFigures(record.hours, record.self_selected, Decimal(0), record.school_based,
                        record.concentrated if record.concentrated > 0 else None)
